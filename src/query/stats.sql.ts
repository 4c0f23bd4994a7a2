import type { Queryable } from '../db/db.js';
import { isSystemOrganizationSql } from '../system-audit/system-audit.sql.js';

export interface VolumeRow {
  bucket: Date;
  count: number;
}

export interface GroupRow {
  key: string;
  count: number;
}

// Across organizations, the figures are the customers': Verity's own administrative events (the system
// organization) are left out unless that organization is asked for by id.
const CUSTOMERS_ONLY = `not ${isSystemOrganizationSql('events.organization_id')}`;

/** Event counts per time bucket (UTC) in [from, to), for one organization or all customers. */
export async function selectVolume(db: Queryable, organizationId: string | null, interval: 'hour' | 'day', from: Date, to: Date): Promise<VolumeRow[]> {
  return db.query<VolumeRow>(
    `select date_trunc($2, occurred_at at time zone 'utc') at time zone 'utc' as bucket, count(*)::int8 as count
     from events
     where (organization_id = $1 or ($1::text is null and ${CUSTOMERS_ONLY}))
       and occurred_at >= $3::timestamptz and occurred_at < $4::timestamptz
     group by 1 order by 1`,
    [organizationId, interval, from.toISOString(), to.toISOString()],
  );
}

/** The top actions (or organizations) by event count in [from, to), for one organization or all customers. */
export async function selectTop(db: Queryable, organizationId: string | null, by: 'action' | 'organization_id', from: Date, to: Date, limit: number): Promise<GroupRow[]> {
  // `by` comes from a closed union, never from input, so interpolating the column name is safe.
  return db.query<GroupRow>(
    `select ${by} as key, count(*)::int8 as count
     from events
     where (organization_id = $1 or ($1::text is null and ${CUSTOMERS_ONLY}))
       and occurred_at >= $2::timestamptz and occurred_at < $3::timestamptz
     group by 1 order by 2 desc limit $4`,
    [organizationId, from.toISOString(), to.toISOString(), limit],
  );
}
