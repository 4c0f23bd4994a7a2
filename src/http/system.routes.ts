import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/db.js';
import { AppError } from '../errors/app-error.js';
import type { Metrics } from '../metrics/metrics.js';
import { BEARER } from './plugins/auth.js';

/**
 * Health, readiness, metrics and the OpenAPI document: unauthenticated and not rate limited, except that
 * /metrics asks for `metricsToken` when one is configured (it names every tenant's streams and their lag).
 */
export function registerSystemRoutes(app: FastifyInstance, deps: { db: Db; metrics: Metrics; metricsToken: string | undefined }): void {
  const config = { auth: false };
  app.get('/healthz', { config, schema: { tags: ['system'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config, schema: { tags: ['system'], summary: 'Readiness: the database answers' } }, async () => {
    try {
      await deps.db.query('select 1');
    } catch (error) {
      throw new AppError('unavailable', 'The database is not reachable.', { cause: error });
    }
    return { status: 'ready', database: deps.db.kind };
  });

  const tokenDigest = deps.metricsToken === undefined ? undefined : sha256(deps.metricsToken);
  app.get('/metrics', { config, schema: { hide: true } }, async (request, reply) => {
    if (tokenDigest !== undefined) {
      const given = BEARER.exec(request.headers.authorization ?? '')?.[1];
      // Compared as digests: equal lengths for timingSafeEqual, and no early exit on the first differing byte.
      if (given === undefined || !timingSafeEqual(sha256(given), tokenDigest)) {
        throw new AppError('unauthorized', 'GET /metrics needs Authorization: Bearer <VERITY_METRICS_TOKEN>.');
      }
    }
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.get('/openapi.json', { config, schema: { hide: true } }, async () => app.swagger());
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
