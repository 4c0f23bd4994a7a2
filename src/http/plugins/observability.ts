import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics/metrics.js';

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * X-Request-ID, security headers and request metrics on every response, and an access log line at debug
 * level (LOG_LEVEL=debug): off by default, since at ingest rates it would be a line per event. The line
 * carries the path without its query string: signed download links, portal and setup links carry their
 * credential there.
 */
export function registerObservability(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (ACCESS_LOG_LEVELS.has(request.log.level)) {
      request.log.debug(
        {
          method: request.method,
          path: request.url.split('?', 1)[0],
          route: request.routeOptions.url ?? 'unmatched',
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          principal: request.authenticated?.id,
        },
        'request completed',
      );
    }
  });
}

const ACCESS_LOG_LEVELS = new Set(['debug', 'trace']);

const INCOMING_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Keeps a caller's X-Request-ID when it is a plain token (never raw text into logs), else mints one. */
export function requestIdFrom(header: string | string[] | undefined, fallback: () => string): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && INCOMING_ID.test(value) ? value : fallback();
}
