import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { PageQuerySchema, pageParams, type PageQuery } from '../shared/pagination.js';
import {
  CreateStreamBodySchema,
  ReplayBodySchema,
  StreamParamsSchema,
  UpdateStreamBodySchema,
  type CreateStreamBody,
  type ReplayBody,
  type LogStreamView,
  type UpdateStreamBody,
} from './streams.schema.js';
import type { SystemAudit } from '../system-audit/system-audit.service.js';
import type { StreamsService } from './streams.service.js';

type IdParams = { id: string };

export function registerStreamRoutes(app: FastifyInstance, streams: StreamsService, systemAudit: SystemAudit): void {
  const tags = ['log streams'];
  const params = StreamParamsSchema;
  // Where an organization's evidence flows is security configuration: every change to a stream, by the
  // vendor or by the customer's admin in the portal, is an audit event of the system log.
  type Described = Pick<LogStreamView, 'id' | 'organization_id' | 'name' | 'type'>;
  const targets = (stream: Described) => [
    { id: stream.id, type: 'log_stream', ...(stream.name === null ? {} : { name: stream.name }) },
    { id: stream.organization_id, type: 'organization' },
  ];
  const audited = async <T extends Described>(request: FastifyRequest, action: string, stream: T, metadata: Record<string, string> = {}): Promise<T> => {
    await systemAudit.recordRequest(request, action, targets(stream), { destination: stream.type, ...metadata });
    return stream;
  };

  app.post<{ Body: CreateStreamBody }>(
    '/log_streams',
    { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Create a log stream (config validated per type; secrets encrypted, never returned)', body: CreateStreamBodySchema } },
    async (request, reply) => reply.code(201).send(await audited(request, 'log_stream.created', await streams.create(request.principal(), request.body))),
  );

  app.get<{ Querystring: PageQuery & { organization_id?: string } }>(
    '/log_streams',
    { config: { portal: ['log_streams'] }, schema: { tags, summary: 'List log streams', querystring: Type.Object({ ...PageQuerySchema.properties, organization_id: Type.Optional(Type.String()) }) } },
    async (request) => streams.list(request.principal(), request.query.organization_id, pageParams(request.query)),
  );

  app.get<{ Params: IdParams }>('/log_streams/:id', { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Get a log stream', params } }, async (request) =>
    streams.get(request.principal(), request.params.id),
  );

  app.patch<{ Params: IdParams; Body: UpdateStreamBody }>(
    '/log_streams/:id',
    { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Change a log stream (config is merged; omitted secrets are kept)', params, body: UpdateStreamBodySchema } },
    async (request) => {
      const { stream, changed } = await streams.update(request.principal(), request.params.id, request.body);
      return audited(request, 'log_stream.updated', stream, { changed: changed.join(' ') || 'nothing' });
    },
  );

  app.delete<{ Params: IdParams }>('/log_streams/:id', { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Delete a log stream', params } }, async (request, reply) => {
    await audited(request, 'log_stream.deleted', await streams.remove(request.principal(), request.params.id));
    return reply.code(204).send();
  });

  app.post<{ Params: IdParams }>(
    '/log_streams/:id/test',
    { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Send one marked test event now and return what the destination answered', params } },
    async (request) => streams.test(request.principal(), request.params.id),
  );

  app.post<{ Params: IdParams }>('/log_streams/:id/pause', { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Pause delivery', params } }, async (request) => {
    const { stream, changed } = await streams.pause(request.principal(), request.params.id);
    // Pausing a paused stream changes nothing, and the trail says so by not recording it again.
    return changed ? audited(request, 'log_stream.paused', stream) : stream;
  });

  app.post<{ Params: IdParams }>(
    '/log_streams/:id/resume',
    { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Resume delivery (also retries an invalid stream now)', params } },
    async (request) => audited(request, 'log_stream.resumed', await streams.resume(request.principal(), request.params.id)),
  );

  app.post<{ Params: IdParams; Body: ReplayBody }>(
    '/log_streams/:id/replay',
    { schema: { tags, summary: 'Re-deliver events that occurred from a time on', params, body: ReplayBodySchema } },
    async (request) =>
      audited(request, 'log_stream.replayed', await streams.replay(request.principal(), request.params.id, new Date(request.body.from)), { from: request.body.from }),
  );

  app.get<{ Params: IdParams; Querystring: PageQuery }>(
    '/log_streams/:id/deliveries',
    { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Recent delivery attempts, newest first', params, querystring: PageQuerySchema } },
    async (request) => streams.deliveries(request.principal(), request.params.id, pageParams(request.query)),
  );
}
