import type { FastifyInstance } from 'fastify';
import { IntegrityQuerySchema, IntegrityResponseSchema, PublicKeyResponseSchema, type IntegrityQuery } from './integrity.schema.js';
import type { IntegrityService } from './integrity.service.js';

export function registerIntegrityRoutes(app: FastifyInstance, integrity: IntegrityService): void {
  const tags = ['integrity'];

  // Public on purpose: a public key is meant to be published, and an auditor verifying an export should be
  // able to fetch (and pin) it without being given an API key.
  app.get(
    '/audit_logs/integrity/public_key',
    {
      config: { auth: false },
      schema: {
        tags,
        summary: 'The Ed25519 public key that verifies checkpoints (public, no API key needed)',
        security: [],
        response: { 200: PublicKeyResponseSchema },
      },
    },
    async () => integrity.publicKey(),
  );

  app.get<{ Querystring: IntegrityQuery }>(
    '/audit_logs/integrity',
    {
      config: { portal: ['audit_logs'] },
      schema: {
        tags,
        summary: 'An organization’s chain head, retention anchor, recent signed checkpoints and public key; verify=true re-walks the chain',
        querystring: IntegrityQuerySchema,
        response: { 200: IntegrityResponseSchema },
      },
    },
    async (request) => integrity.get(request.principal(), request.query.organization_id, request.query.verify === true),
  );
}
