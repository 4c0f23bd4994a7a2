import type { IdempotencyClaim } from '../idempotency/idempotency.service.js';
import type { PortalIntent, Principal } from '../keys/keys.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key's principal; throws 401 when the request carries none (routes without auth never call it). */
    principal(): Principal;
    authenticated: Principal | undefined;
    /** Re-checks the credential the request came with: false once its key is revoked or its session ended. */
    stillAuthenticated(): Promise<boolean>;
    /**
     * Set when the principal came from a session cookie: the session's CSRF token, which every unsafe
     * request must echo in x-csrf-token. Undefined for bearer credentials (a page cannot forge those).
     */
    cookieCsrfToken: string | undefined;
    idempotencyClaim: IdempotencyClaim | undefined;
  }
  interface FastifyContextConfig {
    /** false for public routes (health, metrics, docs, UI pages). */
    auth?: boolean;
    /**
     * Admin Portal intents whose sessions may call this route. Portal sessions are refused (403) on every
     * route that does not list their intent: a whitelist, so a new route is closed to them by default.
     */
    portal?: readonly PortalIntent[];
    /**
     * Routes of the browser apps themselves: only this kind of session authenticates them (the dashboard's
     * /dashboard/api/* take the operator cookie, the portal's /portal/api/* a portal session).
     */
    session?: 'operator' | 'portal';
    /**
     * 'generic' (default for POST): the plugin claims the key and replays stored responses.
     * 'self': the route writes the record itself, in its own transaction (ingest).
     */
    idempotency?: 'generic' | 'self';
    /**
     * Top-level fields of this route's response that hold a credential (an API key's secret): they are left
     * out of the stored response, so the secret exists nowhere but in the first answer, and a replay
     * answers without them.
     */
    idempotencyOmit?: readonly string[];
    /**
     * What a repeat of a request that succeeded gets: 'stored' (default) the stored answer, without the
     * idempotencyOmit fields; 'rerun' runs the route again for a fresh answer, stores nothing new and is
     * not marked Idempotent-Replayed. Only for routes whose credential is short-lived and cheap to issue
     * again (a portal link), where an answer without it would be useless. A different request under the
     * key still gets 409, and a failed first request's stored 4xx is still answered as stored.
     */
    idempotencyReplay?: 'stored' | 'rerun';
    /** Which WorkOS error body a schema-validation failure gets on this route. */
    validationShape?: 'default' | 'event' | 'batch';
  }
}

export {};
