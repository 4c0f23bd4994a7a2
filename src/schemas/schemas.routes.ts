import type { FastifyInstance } from 'fastify';
import { requireScope, requireUnrestrictedAdmin } from '../keys/access.js';
import { PageQuerySchema, pageParams, type PageQuery } from '../shared/pagination.js';
import type { SystemAudit } from '../system-audit/system-audit.service.js';
import { ActionParamsSchema, CreateSchemaBodySchema, type SchemaDefinition } from './schemas.schema.js';
import type { SchemasService } from './schemas.service.js';

export function registerSchemaRoutes(app: FastifyInstance, schemas: SchemasService, systemAudit: Pick<SystemAudit, 'recordRequest'>): void {
  app.post<{ Params: { action: string }; Body: SchemaDefinition }>(
    '/audit_logs/actions/:action/schemas',
    {
      schema: {
        tags: ['schemas'],
        summary: 'Create the next immutable schema version of an action (creates the action if needed)',
        params: ActionParamsSchema,
        body: CreateSchemaBodySchema,
      },
    },
    async (request, reply) => {
      // Schemas bind every organization's events, so a key restricted to one organization may not add them.
      requireUnrestrictedAdmin(request.principal());
      const created = await schemas.create(request.params.action, request.body);
      // A new version decides which events every organization's log accepts from now on: an administrative
      // change like a key or a stream, so the system log records who made it (the schema itself is in the API).
      await systemAudit.recordRequest(request, 'audit_log_schema.created', [{ id: request.params.action, type: 'audit_log_action' }], {
        version: created.version,
        target_types: created.targets.map((target) => target.type).join(' '),
      });
      return reply.code(201).send(created);
    },
  );

  app.get<{ Params: { action: string }; Querystring: PageQuery }>(
    '/audit_logs/actions/:action/schemas',
    { schema: { tags: ['schemas'], summary: 'List an action’s schema versions', params: ActionParamsSchema, querystring: PageQuerySchema } },
    async (request) => {
      requireScope(request.principal(), 'events:read');
      return schemas.list(request.params.action, pageParams(request.query));
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/audit_logs/actions',
    { config: { portal: ['audit_logs'] }, schema: { tags: ['schemas'], summary: 'List actions with their latest schema', querystring: PageQuerySchema } },
    async (request) => {
      requireScope(request.principal(), 'events:read');
      return schemas.listActions(pageParams(request.query));
    },
  );
}
