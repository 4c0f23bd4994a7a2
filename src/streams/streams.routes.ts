import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { PageQuerySchema, pageParams, type PageQuery } from '../shared/pagination.js';
import {
  CreateStreamBodySchema,
  ReplayBodySchema,
  StreamParamsSchema,
  UpdateStreamBodySchema,
  type CreateStreamBody,
  type ReplayBody,
  type UpdateStreamBody,
} from './streams.schema.js';
import type { StreamsService } from './streams.service.js';

type IdParams = { id: string };

export function registerStreamRoutes(app: FastifyInstance, streams: StreamsService): void {
  const tags = ['log streams'];
  const params = StreamParamsSchema;

  app.post<{ Body: CreateStreamBody }>(
    '/log_streams',
    { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Create a log stream (config validated per type; secrets encrypted, never returned)', body: CreateStreamBodySchema } },
    async (request, reply) => reply.code(201).send(await streams.create(request.principal(), request.body)),
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
    async (request) => streams.update(request.principal(), request.params.id, request.body),
  );

  app.delete<{ Params: IdParams }>('/log_streams/:id', { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Delete a log stream', params } }, async (request, reply) => {
    await streams.remove(request.principal(), request.params.id);
    return reply.code(204).send();
  });

  app.post<{ Params: IdParams }>(
    '/log_streams/:id/test',
    { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Send one marked test event now and return what the destination answered', params } },
    async (request) => streams.test(request.principal(), request.params.id),
  );

  app.post<{ Params: IdParams }>('/log_streams/:id/pause', { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Pause delivery', params } }, async (request) =>
    streams.pause(request.principal(), request.params.id),
  );

  app.post<{ Params: IdParams }>(
    '/log_streams/:id/resume',
    { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Resume delivery (also retries an invalid stream now)', params } },
    async (request) => streams.resume(request.principal(), request.params.id),
  );

  app.post<{ Params: IdParams; Body: ReplayBody }>(
    '/log_streams/:id/replay',
    { schema: { tags, summary: 'Re-deliver events that occurred from a time on', params, body: ReplayBodySchema } },
    async (request) => streams.replay(request.principal(), request.params.id, new Date(request.body.from)),
  );

  app.get<{ Params: IdParams; Querystring: PageQuery }>(
    '/log_streams/:id/deliveries',
    { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Recent delivery attempts, newest first', params, querystring: PageQuerySchema } },
    async (request) => streams.deliveries(request.principal(), request.params.id, pageParams(request.query)),
  );
}
