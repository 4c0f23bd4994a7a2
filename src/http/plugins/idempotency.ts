import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import { hashRequest, type IdempotencyService, type StoredResponse } from '../../idempotency/idempotency.service.js';

const MAX_KEY_LENGTH = 255;

/**
 * Idempotency-Key on every POST: the SDK sends one each time and reuses it on retries. A repeat with the
 * same request gets the first response again; a different request under the same key gets 409.
 * Responses of 5xx are not kept, so a retry after a server error runs again.
 */
export function registerIdempotency(app: FastifyInstance, idempotency: IdempotencyService): void {
  app.decorateRequest('idempotencyClaim', undefined);

  app.addHook('preHandler', async (request, reply) => {
    const raw = request.headers['idempotency-key'];
    if (request.method !== 'POST' || raw === undefined || request.authenticated === undefined) return;
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (key === undefined || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw new AppError('bad_request', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters.`);
    }
    const claim = {
      scope: request.authenticated.id,
      key,
      requestHash: hashRequest(request.method, request.url, request.body),
    };
    if (request.routeOptions.config.idempotency === 'self') {
      request.idempotencyClaim = claim;
      return;
    }
    const stored = await idempotency.claim(claim);
    if (stored !== null) {
      // The route runs again, without the claim: its fresh answer is not written over the first one's record.
      if (request.routeOptions.config.idempotencyReplay === 'rerun' && stored.status >= 200 && stored.status < 300) return;
      return sendStored(reply, stored);
    }
    // Only now does this request own the key. Set earlier, a repeat answered 409 (or failing while it
    // waited) would have written its own answer into — or deleted — the first request's record.
    request.idempotencyClaim = claim;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotencyClaim;
    if (claim === undefined || request.routeOptions.config.idempotency === 'self') return payload;
    request.idempotencyClaim = undefined;
    const body = reply.statusCode >= 500 || reply.statusCode === 429 ? undefined : withoutFields(typeof payload === 'string' ? payload : '', request.routeOptions.config.idempotencyOmit ?? []);
    if (body === undefined) await idempotency.release(claim);
    else await idempotency.complete(claim, { status: reply.statusCode, body });
    return payload;
  });
}

/**
 * The JSON object `body` without the given top-level fields (unchanged when there are none to drop).
 * Undefined — nothing is kept — when fields must be dropped from a body that is not a JSON object: those
 * fields are secrets, and a body they cannot be taken out of must not be stored.
 */
function withoutFields(body: string, fields: readonly string[]): string | undefined {
  if (fields.length === 0) return body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const kept = Object.fromEntries(Object.entries(parsed).filter(([name]) => !fields.includes(name)));
  return JSON.stringify(kept);
}

/** Sends a response kept as JSON text, marking replays with `Idempotent-Replayed: true`. */
export function sendStored(reply: FastifyReply, stored: StoredResponse): FastifyReply {
  if (stored.replayed === true) reply.header('idempotent-replayed', 'true');
  return reply.code(stored.status).type('application/json; charset=utf-8').send(stored.body);
}
