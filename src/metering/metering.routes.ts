import type { FastifyInstance } from 'fastify';
import { requireScope } from '../keys/access.js';
import { UsageQuerySchema, type UsageQuery } from './metering.schema.js';
import type { MeteringService } from './metering.service.js';

export function registerMeteringRoutes(app: FastifyInstance, metering: MeteringService): void {
  app.get<{ Querystring: UsageQuery }>(
    '/usage',
    {
      schema: {
        tags: ['usage'],
        summary: 'Usage and the priced bill for a month, per organization and in total (a restricted key sees only its own)',
        querystring: UsageQuerySchema,
      },
    },
    async (request) => {
      requireScope(request.principal(), 'admin');
      return metering.usage(request.query, request.principal());
    },
  );
}
