import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/db.js';
import { AppError } from '../errors/app-error.js';
import type { Metrics } from '../metrics/metrics.js';

/** Health, readiness, metrics and the OpenAPI document: public, unauthenticated, not rate limited. */
export function registerSystemRoutes(app: FastifyInstance, deps: { db: Db; metrics: Metrics }): void {
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

  app.get('/metrics', { config, schema: { hide: true } }, async (_request, reply) =>
    reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
  );

  app.get('/openapi.json', { config, schema: { hide: true } }, async () => app.swagger());
}
