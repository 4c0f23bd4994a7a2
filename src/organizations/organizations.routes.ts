import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requireScope, requireUnrestrictedAdmin } from '../keys/access.js';
import { listParam } from '../query/query.filters.js';
import { PageQuerySchema, pageParams, type PageQuery } from '../shared/pagination.js';
import {
  CreateOrganizationBodySchema,
  OrganizationParamsSchema,
  RetentionBodySchema,
  UpdateOrganizationBodySchema,
  type CreateOrganizationBody,
  type RetentionBody,
  type UpdateOrganizationBody,
} from './organizations.schema.js';
import type { SystemAudit } from '../system-audit/system-audit.service.js';
import type { OrganizationsService } from './organizations.service.js';

type IdParams = { id: string };

export function registerOrganizationRoutes(app: FastifyInstance, organizations: OrganizationsService, systemAudit: SystemAudit): void {
  const tags = ['organizations'];
  // Creating, changing and deleting tenants, and how long their evidence is kept, are audit events of the
  // system log.
  const target = (organization: { id: string; name: string }) => [{ id: organization.id, type: 'organization', name: organization.name }];

  app.post<{ Body: CreateOrganizationBody }>(
    '/organizations',
    { schema: { tags, summary: 'Create an organization', body: CreateOrganizationBodySchema } },
    async (request, reply) => {
      requireUnrestrictedAdmin(request.principal());
      const created = await organizations.create(request.body);
      await systemAudit.recordRequest(request, 'organization.created', target(created));
      return reply.code(201).send(created);
    },
  );

  app.get<{ Querystring: PageQuery & { include_system?: boolean } & Record<string, unknown> }>(
    '/organizations',
    {
      schema: {
        tags,
        summary: 'List organizations (a restricted key sees only its own)',
        querystring: Type.Object(
          {
            ...PageQuerySchema.properties,
            domains: Type.Optional(Type.Array(Type.String())),
            include_system: Type.Optional(
              Type.Boolean({ description: 'Verity: also list the system organization (system: true) that holds Verity’s own administrative audit events.' }),
            ),
          },
          { additionalProperties: true },
        ),
      },
    },
    async (request) => organizations.list(request.principal(), listParam(request.query, 'domains'), pageParams(request.query), request.query.include_system === true),
  );

  app.get<{ Params: { external_id: string } }>(
    '/organizations/external_id/:external_id',
    { schema: { tags, summary: 'Get an organization by its external id', params: Type.Object({ external_id: Type.String() }) } },
    async (request) => organizations.getByExternalId(request.params.external_id, request.principal()),
  );

  app.get<{ Params: IdParams }>(
    '/organizations/:id',
    { config: { portal: ['audit_logs'] }, schema: { tags, summary: 'Get an organization', params: OrganizationParamsSchema } },
    async (request) => organizations.get(request.params.id, request.principal()),
  );

  app.put<{ Params: IdParams; Body: UpdateOrganizationBody }>(
    '/organizations/:id',
    { schema: { tags, summary: 'Update an organization', params: OrganizationParamsSchema, body: UpdateOrganizationBodySchema } },
    async (request) => {
      requireScope(request.principal(), 'admin');
      const updated = await organizations.update(request.params.id, request.body, request.principal());
      await systemAudit.recordRequest(request, 'organization.updated', target(updated), { changed: Object.keys(request.body).sort().join(' ') });
      return updated;
    },
  );

  app.delete<{ Params: IdParams }>(
    '/organizations/:id',
    {
      schema: {
        tags,
        summary: 'Delete an organization, all its events and export files (refused with 409 legal_hold_active while on legal hold)',
        params: OrganizationParamsSchema,
      },
    },
    async (request, reply) => {
      requireScope(request.principal(), 'admin');
      const deleted = await organizations.delete(request.params.id, request.principal(), request.log);
      await systemAudit.recordRequest(request, 'organization.deleted', target(deleted));
      return reply.code(204).send();
    },
  );

  app.get<{ Params: IdParams }>(
    '/organizations/:id/audit_logs_retention',
    { schema: { tags, summary: 'Get the event retention period', params: OrganizationParamsSchema } },
    async (request) => organizations.getRetention(request.params.id, request.principal()),
  );

  app.put<{ Params: IdParams; Body: RetentionBody }>(
    '/organizations/:id/audit_logs_retention',
    {
      schema: {
        tags,
        summary: 'Set the event retention period ({retention_period_in_days} or WorkOS SDK {retention_period: "3_MONTHS"})',
        params: OrganizationParamsSchema,
        body: RetentionBodySchema,
      },
    },
    async (request) => {
      requireScope(request.principal(), 'admin');
      const retention = await organizations.setRetention(request.params.id, request.body, request.principal());
      await systemAudit.recordRequest(request, 'organization.retention_changed', [{ id: request.params.id, type: 'organization' }], {
        retention_period_in_days: retention.retention_period_in_days,
      });
      return retention;
    },
  );

  app.get<{ Params: IdParams }>(
    '/organizations/:id/audit_log_configuration',
    { config: { portal: ['log_streams'] }, schema: { tags, summary: 'Get the organization’s audit log configuration', params: OrganizationParamsSchema } },
    async (request) => organizations.auditLogConfiguration(request.params.id, request.principal()),
  );
}
