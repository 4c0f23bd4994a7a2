import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Db } from '../db/db.js';
import { AppError } from '../errors/app-error.js';
import { assertOrganizationAccess, requireScope } from '../keys/access.js';
import { selectTop, selectVolume } from './stats.sql.js';
import { StringEnum } from '../shared/string-enum.js';

const StatsQuerySchema = Type.Object({
  organization_id: Type.Optional(Type.String()),
  interval: Type.Optional(StringEnum(['hour', 'day'], { default: 'day' })),
  range_start: Type.Optional(Type.String({ format: 'date-time' })),
  range_end: Type.Optional(Type.String({ format: 'date-time' })),
});
type StatsQuery = Static<typeof StatsQuerySchema>;

const MAX_BUCKETS = 400;

/** Aggregates for dashboards: volume over time, top actions and (across organizations) top organizations. */
export function registerStatsRoutes(app: FastifyInstance, db: Db): void {
  app.get<{ Querystring: StatsQuery }>(
    '/audit_logs/stats',
    { schema: { tags: ['events'], summary: 'Event volume over time and top actions/organizations', querystring: StatsQuerySchema } },
    async (request) => {
      const principal = request.principal();
      requireScope(principal, 'events:read');
      if (request.query.organization_id !== undefined) assertOrganizationAccess(principal, request.query.organization_id);
      const organizationId = principal.organizationId ?? request.query.organization_id ?? null;
      const interval = request.query.interval ?? 'day';
      const to = request.query.range_end ? new Date(request.query.range_end) : new Date();
      const from = request.query.range_start ? new Date(request.query.range_start) : new Date(to.getTime() - 30 * 86_400_000);
      const step = interval === 'hour' ? 3_600_000 : 86_400_000;
      if (from >= to) throw new AppError('invalid_query', 'range_start must be before range_end.');
      if ((to.getTime() - from.getTime()) / step > MAX_BUCKETS) throw new AppError('invalid_query', `At most ${MAX_BUCKETS} ${interval}s per request.`);
      const [volume, actions, organizations] = await Promise.all([
        selectVolume(db, organizationId, interval, from, to),
        selectTop(db, organizationId, 'action', from, to, 10),
        organizationId === null ? selectTop(db, null, 'organization_id', from, to, 10) : Promise.resolve([]),
      ]);
      return {
        object: 'audit_log_stats',
        organization_id: organizationId,
        interval,
        range_start: from.toISOString(),
        range_end: to.toISOString(),
        total: volume.reduce((sum, row) => sum + row.count, 0),
        volume: volume.map((row) => ({ bucket: row.bucket.toISOString(), count: row.count })),
        top_actions: actions.map((row) => ({ action: row.key, count: row.count })),
        top_organizations: organizations.map((row) => ({ organization_id: row.key, count: row.count })),
      };
    },
  );
}
