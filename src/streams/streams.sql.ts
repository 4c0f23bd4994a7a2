import type { Queryable } from '../db/db.js';

export interface StreamRow {
  id: string;
  organization_id: string;
  name: string | null;
  type: string;
  config: Record<string, unknown>;
  secrets: string | null;
  secret_fields: string[];
  state: 'active' | 'inactive' | 'error' | 'invalid';
  state_reason: string | null;
  paused: boolean;
  cursor_seq: number;
  attempts: number;
  failing_since: Date | null;
  next_attempt_at: Date | null;
  last_synced_at: Date | null;
  delivered_count: number;
  failed_count: number;
  created_at: Date;
  updated_at: Date;
  head_seq: number;
  /** Events still to deliver: the seqs after the cursor up to the head, less those retention purged. */
  lag_events: number;
}

/**
 * Events a stream has yet to deliver (aliases s: log_streams, h: org_log_heads): seqs after its cursor,
 * not counting purged ones, which it will never send (a stream started from the beginning after a purge).
 */
const LAG_EVENTS = `greatest(h.seq - s.cursor_seq - coalesce((
    select sum(least(p.last_seq, h.seq) - greatest(p.first_seq, s.cursor_seq + 1) + 1) from purged_ranges p
    where p.organization_id = s.organization_id and p.last_seq > s.cursor_seq and p.first_seq <= h.seq), 0), 0)::int8`;

const SELECT = `select s.id, s.organization_id, s.name, s.type, s.config, s.secrets, s.secret_fields, s.state, s.state_reason,
  s.paused, s.cursor_seq, s.attempts, s.failing_since, s.next_attempt_at, s.last_synced_at, s.delivered_count,
  s.failed_count, s.created_at, s.updated_at, h.seq as head_seq, ${LAG_EVENTS} as lag_events
  from log_streams s join org_log_heads h on h.organization_id = s.organization_id`;

export async function insertStream(
  tx: Queryable,
  row: { id: string; organizationId: string; name: string | null; type: string; config: Record<string, unknown>; secrets: string | null; secretFields: string[]; cursorSeq: number },
): Promise<void> {
  await tx.query(
    `insert into log_streams (id, organization_id, name, type, config, secrets, secret_fields, state, cursor_seq)
     values ($1, $2, $3, $4, $5::jsonb, $6, $7, 'active', $8)`,
    [row.id, row.organizationId, row.name, row.type, JSON.stringify(row.config), row.secrets, row.secretFields, row.cursorSeq],
  );
}

export async function selectStream(db: Queryable, id: string): Promise<StreamRow | undefined> {
  return (await db.query<StreamRow>(`${SELECT} where s.id = $1 and s.deleted_at is null`, [id]))[0];
}

export async function selectStreams(
  db: Queryable,
  organizationId: string | null,
  cursor: string | undefined,
  op: '<' | '>',
  order: 'asc' | 'desc',
  limit: number,
): Promise<StreamRow[]> {
  return db.query<StreamRow>(
    `${SELECT} where s.deleted_at is null and ($1::text is null or s.organization_id = $1)
       and ($2::text is null or s.id ${op} $2) order by s.id ${order} limit $3`,
    [organizationId, cursor ?? null, limit],
  );
}

export async function updateStreamConfig(
  tx: Queryable,
  id: string,
  changes: { name: string | null | undefined; config: Record<string, unknown>; secrets: string | null; secretFields: string[] },
): Promise<void> {
  // A changed configuration deserves a fresh attempt: clear invalid/error state and any backoff.
  await tx.query(
    `update log_streams set config = $2::jsonb, secrets = $3, secret_fields = $4,
       name = case when $5::boolean then $6 else name end,
       state = case when paused then 'inactive' else 'active' end, state_reason = null,
       attempts = 0, next_attempt_at = null, failing_since = null, updated_at = now()
     where id = $1`,
    [id, JSON.stringify(changes.config), changes.secrets, changes.secretFields, changes.name !== undefined, changes.name ?? null],
  );
}

export async function setPaused(db: Queryable, id: string, paused: boolean, reason: string | null): Promise<void> {
  await db.query(
    `update log_streams set paused = $2, state = case when $2 then 'inactive' else 'active' end, state_reason = $3,
       attempts = 0, next_attempt_at = null, failing_since = null, updated_at = now()
     where id = $1`,
    [id, paused, reason],
  );
}

/**
 * Moves the cursor back to `cursorSeq`; answers false, changing nothing, when the cursor is before it: a
 * replay re-delivers, it never skips events not yet delivered. (Compared in the statement, so a delivery
 * moving the cursor meanwhile is accounted for.) At the cursor itself it still counts: a batch in flight
 * is then delivered again from there.
 */
export async function rewindCursor(db: Queryable, id: string, cursorSeq: number): Promise<boolean> {
  const rows = await db.query(
    `update log_streams set cursor_seq = $2, replays = replays + 1, attempts = 0, next_attempt_at = null, updated_at = now(),
       state = case when paused then 'inactive' when state = 'invalid' then state else 'active' end
     where id = $1 and cursor_seq >= $2
     returning id`,
    [id, cursorSeq],
  );
  return rows.length > 0;
}

export async function softDeleteStream(db: Queryable, id: string): Promise<void> {
  await db.query(`update log_streams set deleted_at = now(), lease_owner = null, lease_until = null where id = $1`, [id]);
}

/** The cursor a replay from `from` rewinds to (before the first event at or after it); undefined when no event is. */
export async function replayCursor(db: Queryable, organizationId: string, from: Date): Promise<number | undefined> {
  const rows = await db.query<{ seq: number | null }>(
    `select min(seq) - 1 as seq from events where organization_id = $1 and occurred_at >= $2::timestamptz`,
    [organizationId, from.toISOString()],
  );
  return rows[0]?.seq ?? undefined;
}

/** The cursor that makes delivery start with the first event that occurred at or after `from`. */
export async function cursorBefore(db: Queryable, organizationId: string, from: Date): Promise<number> {
  const rows = await db.query<{ seq: number }>(
    `select coalesce(min(seq), (select seq from org_log_heads where organization_id = $1) + 1) - 1 as seq
     from events where organization_id = $1 and occurred_at >= $2::timestamptz`,
    [organizationId, from.toISOString()],
  );
  return rows[0]?.seq ?? 0;
}

export interface DeliveryRow {
  id: number;
  attempted_at: Date;
  kind: 'batch' | 'test';
  first_seq: number | null;
  last_seq: number | null;
  event_count: number;
  bytes: number;
  outcome: string;
  http_status: number | null;
  latency_ms: number;
  error: string | null;
}

export interface NewDelivery {
  streamId: string;
  kind: 'batch' | 'test';
  firstSeq: number | null;
  lastSeq: number | null;
  eventCount: number;
  bytes: number;
  outcome: string;
  httpStatus: number | null;
  latencyMs: number;
  error: string | null;
}

export async function insertDelivery(tx: Queryable, d: NewDelivery): Promise<void> {
  await tx.query(
    `insert into stream_deliveries (stream_id, kind, first_seq, last_seq, event_count, bytes, outcome, http_status, latency_ms, error)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [d.streamId, d.kind, d.firstSeq, d.lastSeq, d.eventCount, d.bytes, d.outcome, d.httpStatus, Math.round(d.latencyMs), d.error],
  );
}

export async function selectDeliveries(db: Queryable, streamId: string, cursor: number | undefined, op: '<' | '>', order: 'asc' | 'desc', limit: number): Promise<DeliveryRow[]> {
  return db.query<DeliveryRow>(
    `select id, attempted_at, kind, first_seq, last_seq, event_count, bytes, outcome, http_status, latency_ms, error
     from stream_deliveries where stream_id = $1 and ($2::int8 is null or id ${op} $2) order by id ${order} limit $3`,
    [streamId, cursor ?? null, limit],
  );
}

export interface LagRow {
  id: string;
  type: string;
  lag_events: number;
  lag_seconds: number | null;
}

/**
 * Per stream: events not yet delivered, and how long the oldest of them has waited. The oldest is the first
 * stored event after the cursor, not the seq right after it: retention may have purged that one (a stream
 * stalled long enough for its backlog to expire must not read as caught up).
 */
export async function selectLag(db: Queryable): Promise<LagRow[]> {
  return db.query<LagRow>(
    `select s.id, s.type, ${LAG_EVENTS} as lag_events,
       extract(epoch from now() - e.received_at)::float8 as lag_seconds
     from log_streams s
     join org_log_heads h on h.organization_id = s.organization_id
     left join lateral (
       select received_at from events e
       where e.organization_id = s.organization_id and e.seq > s.cursor_seq and e.seq <= h.seq
       order by e.seq limit 1) e on true
     where s.deleted_at is null`,
  );
}
