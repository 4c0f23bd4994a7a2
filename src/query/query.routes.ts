import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../errors/app-error.js';
import { PageQuerySchema, pageParams, type PageQuery } from '../shared/pagination.js';
import type { AppendSignal } from './append-signal.js';
import { serveLiveTail } from './live-tail.js';
import { parseEventFilters } from './query.filters.js';
import type { QueryService } from './query.service.js';

const ListOf = Type.Array(Type.String());

const SearchQuerySchema = Type.Object(
  {
    ...PageQuerySchema.properties,
    organization_id: Type.Optional(Type.String({ description: 'Required for keys restricted to one organization (implied for them).' })),
    actions: Type.Optional(ListOf),
    actor_ids: Type.Optional(ListOf),
    actor_names: Type.Optional(ListOf),
    target_ids: Type.Optional(ListOf),
    target_types: Type.Optional(ListOf),
    q: Type.Optional(Type.String({ description: 'Free text; every word must appear somewhere in the event.' })),
    range_start: Type.Optional(Type.String({ format: 'date-time' })),
    range_end: Type.Optional(Type.String({ format: 'date-time' })),
  },
  {
    additionalProperties: true,
    description: 'List filters accept repeated parameters, the bracket form (actions[]=…) and comma-separated values. metadata[key]=value matches root, actor and target metadata.',
  },
);

/** The names a search understands: SearchQuerySchema's, the bracket forms of its lists, and metadata[key]. */
const LIST_PARAMS = ['actions', 'actor_ids', 'actor_names', 'target_ids', 'target_types'];
const KNOWN_PARAMS = new Set([...Object.keys(SearchQuerySchema.properties), ...LIST_PARAMS.map((name) => `${name}[]`)]);

/**
 * A misspelt filter (actor_id for actor_ids) would otherwise be ignored and the search widened without a
 * word: for an audit log that is a wrong answer, so it is refused, naming the parameter.
 */
function refuseUnknownParams(query: Record<string, unknown>): void {
  const unknown = Object.keys(query).filter((name) => !KNOWN_PARAMS.has(name) && !name.startsWith('metadata'));
  if (unknown.length === 0) return;
  const shown = unknown.slice(0, 5).map((name) => `'${name.slice(0, 60)}'`).join(', ');
  throw new AppError(
    'invalid_query',
    `Unknown search parameter${unknown.length > 1 ? 's' : ''} ${shown}: a search takes ${[...Object.keys(SearchQuerySchema.properties)].join(', ')} and metadata[key]=value.`,
  );
}

export function registerQueryRoutes(app: FastifyInstance, deps: { query: QueryService; signal: AppendSignal }): void {
  // Live tails never finish by themselves: end them when the server shuts down so draining can complete.
  const open = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const response of open) {
      response.end();
      // The socket would otherwise linger as keep-alive and hold the server's close open.
      response.socket?.destroySoon();
    }
  });

  app.get<{ Querystring: PageQuery & Record<string, unknown> }>(
    '/audit_logs/events',
    { config: { portal: ['audit_logs'] }, schema: { tags: ['events'], summary: 'Search events', querystring: SearchQuerySchema } },
    async (request) => {
      refuseUnknownParams(request.query);
      return deps.query.search(request.principal(), parseEventFilters(request.query), pageParams(request.query));
    },
  );

  app.get<{ Querystring: { organization_id?: string } }>(
    '/audit_logs/events/stream',
    {
      schema: {
        tags: ['events'],
        summary: 'Follow an organization’s new events live (Server-Sent Events; resumes from Last-Event-ID)',
        querystring: Type.Object({ organization_id: Type.String() }),
      },
    },
    async (request, reply) => {
      const organizationId = request.query.organization_id;
      if (organizationId === undefined) throw new AppError('invalid_query', 'organization_id is required.');
      await serveLiveTail(request, reply, { ...deps, open }, organizationId);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/audit_logs/events/:id',
    { config: { portal: ['audit_logs'] }, schema: { tags: ['events'], summary: 'Get one event', params: Type.Object({ id: Type.String({ maxLength: 128 }) }) } },
    async (request) => deps.query.get(request.principal(), request.params.id),
  );
}
