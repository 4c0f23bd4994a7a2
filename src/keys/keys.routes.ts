import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireUnrestrictedAdmin } from './access.js';
import type { SystemAudit } from '../system-audit/system-audit.service.js';
import { SCOPES, type ApiKeyView, type KeysService } from './keys.service.js';

const CreateKeyBodySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Array(Type.Union(SCOPES.map((scope) => Type.Literal(scope))), { minItems: 1, maxItems: SCOPES.length }),
    organization_id: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
  },
  { additionalProperties: false },
);
type CreateKeyBody = Static<typeof CreateKeyBodySchema>;

/** Admin API for API keys; only an unrestricted admin key may use it. Secrets appear once, at creation. */
export function registerKeyRoutes(app: FastifyInstance, keys: KeysService, systemAudit: SystemAudit): void {
  const tags = ['api keys'];
  // Who can write or read which organization's events is security configuration: each change is an audit
  // event of the system log (never with the secret).
  const target = (key: ApiKeyView) => [{ id: key.id, type: 'api_key', name: key.name }];
  const details = (key: ApiKeyView) => ({ scopes: key.scopes.join(' '), organization_id: key.organization_id ?? 'all', display_prefix: key.display_prefix });
  app.post<{ Body: CreateKeyBody }>(
    '/api_keys',
    // A repeat of the request (same Idempotency-Key) answers the key without its secret: it is kept nowhere.
    { schema: { tags, summary: 'Create an API key (the secret is returned once)', body: CreateKeyBodySchema }, config: { idempotencyOmit: ['secret'] } },
    async (request, reply) => {
      requireUnrestrictedAdmin(request.principal());
      const body = request.body;
      const created = await keys.create({ name: body.name, scopes: body.scopes, organizationId: body.organization_id ?? null });
      await systemAudit.recordRequest(request, 'api_key.created', target(created), details(created));
      return reply.code(201).send(created);
    },
  );

  app.get<{ Querystring: { include_revoked?: boolean } }>(
    '/api_keys',
    { schema: { tags, summary: 'List API keys', querystring: Type.Object({ include_revoked: Type.Optional(Type.Boolean()) }) } },
    async (request) => {
      requireUnrestrictedAdmin(request.principal());
      const data = await keys.list(request.query.include_revoked ?? false);
      return { object: 'list', data, list_metadata: { before: null, after: null } };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api_keys/:id',
    { schema: { tags, summary: 'Revoke an API key', params: Type.Object({ id: Type.String() }) } },
    async (request) => {
      requireUnrestrictedAdmin(request.principal());
      const revoked = await keys.revoke(request.params.id);
      await systemAudit.recordRequest(request, 'api_key.revoked', target(revoked), details(revoked));
      return revoked;
    },
  );
}
