import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireUnrestrictedAdmin } from './access.js';
import { SCOPES, type KeysService } from './keys.service.js';

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
export function registerKeyRoutes(app: FastifyInstance, keys: KeysService): void {
  const tags = ['api keys'];
  app.post<{ Body: CreateKeyBody }>(
    '/api_keys',
    { schema: { tags, summary: 'Create an API key (the secret is returned once)', body: CreateKeyBodySchema } },
    async (request, reply) => {
      requireUnrestrictedAdmin(request.principal());
      const body = request.body;
      return reply.code(201).send(await keys.create({ name: body.name, scopes: body.scopes, organizationId: body.organization_id ?? null }));
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
      return keys.revoke(request.params.id);
    },
  );
}
