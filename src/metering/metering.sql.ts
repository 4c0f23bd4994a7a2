import type { Queryable } from '../db/db.js';
import { isSystemOrganizationSql } from '../system-audit/system-audit.sql.js';

export async function selectOrganizationIds(db: Queryable): Promise<string[]> {
  return (await db.query<{ organization_id: string }>('select organization_id from org_log_heads order by organization_id')).map((row) => row.organization_id);
}

/**
 * Snapshots one organization's stored-events counter and its streams into today's (UTC) usage row.
 * One row per statement on purpose: ingest upserts the same rows while holding the heads, and a
 * statement that locked many usage rows at once could deadlock against it.
 */
export async function rollupOrganization(db: Queryable, organizationId: string): Promise<void> {
  await db.query(
    `insert into usage_daily (organization_id, day, events_stored, streams, measured_at)
     select h.organization_id, (now() at time zone 'utc')::date, h.events_stored,
       coalesce((select jsonb_object_agg(t.type, t.n) from (
         select s.type, count(*) as n from log_streams s
         where s.organization_id = h.organization_id
           and (s.deleted_at is null or s.deleted_at > date_trunc('day', now() at time zone 'utc') at time zone 'utc')
         group by s.type) t), '{}'::jsonb),
       now()
     from org_log_heads h where h.organization_id = $1
     on conflict (organization_id, day) do update
       set events_stored = excluded.events_stored, streams = excluded.streams, measured_at = excluded.measured_at`,
    [organizationId],
  );
}

export interface UsageOrganizationRow {
  id: string;
  name: string;
  created_at: Date;
  events_stored: number;
  /** Set for an organization deleted since: its figures come from deleted_organizations. */
  deleted_at: Date | null;
}

/**
 * Organizations created before `before`, with their live stored-events counter, and organizations deleted
 * at or after `since` (a closed month bills them as they were). The system organization (Verity's own
 * administrative audit log) is not a customer and is never billed, even when named.
 */
export async function selectUsageOrganizations(db: Queryable, onlyId: string | null, before: Date, since: Date): Promise<UsageOrganizationRow[]> {
  return db.query<UsageOrganizationRow>(
    `select o.id, o.name, o.created_at, h.events_stored, null::timestamptz as deleted_at
     from organizations o join org_log_heads h on h.organization_id = o.id
     where ($1::text is null or o.id = $1) and o.created_at < $2::timestamptz
       and not ${isSystemOrganizationSql('o.id')}
     union all
     select d.id, d.name, d.created_at, d.events_stored, d.deleted_at
     from deleted_organizations d
     where ($1::text is null or d.id = $1) and d.created_at < $2::timestamptz and d.deleted_at > $3::timestamptz
     order by id`,
    [onlyId, before.toISOString(), since.toISOString()],
  );
}

/** Whether the organization exists or existed (then deleted): usage may be asked of either. */
export async function organizationKnown(db: Queryable, organizationId: string): Promise<boolean> {
  const rows = await db.query(
    'select 1 from organizations where id = $1 union all select 1 from deleted_organizations where id = $1',
    [organizationId],
  );
  return rows.length > 0;
}

/**
 * Called in the deleting transaction, before the organization's rows go: measures today's usage one last
 * time and keeps what its bills still need (usage_daily rows stay; they no longer cascade). A stream
 * still live ends with the organization.
 */
export async function keepDeletedOrganizationUsage(tx: Queryable, organizationId: string): Promise<void> {
  await rollupOrganization(tx, organizationId);
  await tx.query(
    `insert into deleted_organizations (id, name, created_at, deleted_at, events_stored, streams)
     select o.id, o.name, o.created_at, now(), h.events_stored,
       coalesce((select jsonb_agg(jsonb_build_object('created_at', s.created_at, 'deleted_at', coalesce(s.deleted_at, now())) order by s.created_at)
                 from log_streams s where s.organization_id = o.id), '[]'::jsonb)
     from organizations o join org_log_heads h on h.organization_id = o.id
     where o.id = $1`,
    [organizationId],
  );
}

export interface UsageDayRow {
  organization_id: string;
  day: string;
  events_stored: number | null;
  events_ingested: number;
}

/** The month's daily rows; events_stored is null where the roll-up never measured the day. */
export async function selectUsageDays(db: Queryable, onlyId: string | null, first: string, last: string): Promise<UsageDayRow[]> {
  return db.query<UsageDayRow>(
    `select organization_id, day::text as day,
       case when measured_at is null then null else events_stored end as events_stored, events_ingested
     from usage_daily
     where ($1::text is null or organization_id = $1) and day between $2::date and $3::date`,
    [onlyId, first, last],
  );
}

/** Per organization, the last measured figure before `first`. */
export async function selectCarriedIn(db: Queryable, onlyId: string | null, first: string): Promise<{ organization_id: string; events_stored: number }[]> {
  return db.query<{ organization_id: string; events_stored: number }>(
    `select distinct on (organization_id) organization_id, events_stored
     from usage_daily
     where ($1::text is null or organization_id = $1) and day < $2::date and measured_at is not null
     order by organization_id, day desc`,
    [onlyId, first],
  );
}

export interface StreamLifeRow {
  organization_id: string;
  created_at: Date;
  deleted_at: Date | null;
}

/**
 * Streams (deleted ones too: they are billed for the days they existed) alive at some point in [from, to),
 * including those of deleted organizations.
 */
export async function selectStreamLives(db: Queryable, onlyId: string | null, from: Date, to: Date): Promise<StreamLifeRow[]> {
  return db.query<StreamLifeRow>(
    `select organization_id, created_at, deleted_at from log_streams
     where ($1::text is null or organization_id = $1) and created_at < $3::timestamptz
       and (deleted_at is null or deleted_at > $2::timestamptz)
     union all
     select l.organization_id, l.created_at, l.deleted_at from (
       select d.id as organization_id, (s.value->>'created_at')::timestamptz as created_at, (s.value->>'deleted_at')::timestamptz as deleted_at
       from deleted_organizations d cross join lateral jsonb_array_elements(d.streams) s
       where ($1::text is null or d.id = $1) and d.deleted_at > $2::timestamptz) l
     where l.created_at < $3::timestamptz and l.deleted_at > $2::timestamptz`,
    [onlyId, from.toISOString(), to.toISOString()],
  );
}

export async function selectNow(db: Queryable): Promise<Date> {
  const rows = await db.query<{ now: Date }>('select now() as now');
  return rows[0]?.now ?? new Date();
}
