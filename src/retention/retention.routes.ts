import type { FastifyInstance } from 'fastify';
import { requireScope, requireUnrestrictedAdmin } from '../keys/access.js';
import { OrganizationParamsSchema } from '../organizations/organizations.schema.js';
import type { SystemAudit } from '../system-audit/system-audit.service.js';
import { LegalHoldBodySchema, type LegalHoldBody } from './retention.schema.js';
import type { RetentionService } from './retention.service.js';

export function registerRetentionRoutes(app: FastifyInstance, retention: RetentionService, systemAudit: SystemAudit): void {
  app.post(
    '/admin/retention/run',
    {
      schema: {
        tags: ['retention'],
        summary: 'Run the retention purge now, for every organization not on legal hold, and report what it deleted',
      },
    },
    async (request) => {
      // The purge spans every organization, so only an unrestricted admin key may start it.
      requireUnrestrictedAdmin(request.principal());
      return retention.run();
    },
  );

  app.put<{ Params: { id: string }; Body: LegalHoldBody }>(
    '/organizations/:id/legal_hold',
    {
      schema: {
        tags: ['organizations', 'retention'],
        summary: 'Place or lift a legal hold: while enabled, the retention purge deletes none of the organization’s events',
        params: OrganizationParamsSchema,
        body: LegalHoldBodySchema,
      },
    },
    async (request) => {
      requireScope(request.principal(), 'admin');
      const organization = await retention.setLegalHold(request.params.id, request.body, request.principal());
      // Placing or lifting a hold decides whether evidence may be deleted: it is an audit event itself.
      await systemAudit.recordRequest(
        request,
        request.body.enabled ? 'organization.legal_hold_enabled' : 'organization.legal_hold_disabled',
        [{ id: organization.id, type: 'organization', name: organization.name }],
        { reason: organization.legal_hold.reason },
      );
      return organization;
    },
  );
}
