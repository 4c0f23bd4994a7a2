import type { IdempotencyClaim } from '../idempotency/idempotency.service.js';
import type { Principal } from '../keys/keys.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key's principal; throws 401 when the request carries none (routes without auth never call it). */
    principal(): Principal;
    authenticated: Principal | undefined;
    idempotencyClaim: IdempotencyClaim | undefined;
  }
  interface FastifyContextConfig {
    /** false for public routes (health, metrics, docs). */
    auth?: boolean;
    /**
     * 'generic' (default for POST): the plugin claims the key and replays stored responses.
     * 'self': the route writes the record itself, in its own transaction (ingest).
     */
    idempotency?: 'generic' | 'self';
    /** Which WorkOS error body a schema-validation failure gets on this route. */
    validationShape?: 'default' | 'event' | 'batch';
  }
}

export {};
