import type { Queryable } from '../db/db.js';

export const LOG_CHANNEL = 'verity_log';

export interface HeadRow {
  organization_id: string;
  seq: number;
  hash: string;
}

/** Locks the heads of these organizations, in id order so concurrent committers never deadlock. */
export async function lockHeads(tx: Queryable, organizationIds: readonly string[]): Promise<HeadRow[]> {
  return tx.query<HeadRow>(
    `select organization_id, seq, hash from org_log_heads
     where organization_id = any($1::text[]) order by organization_id for update`,
    [organizationIds],
  );
}

export interface EventRecord {
  organization_id: string;
  seq: number;
  id: string;
  occurred_at: string;
  action: string;
  actor_id: string;
  actor_name: string | null;
  tags: string[];
  search_text: string;
  data: unknown;
  prev_hash: string;
  hash: string;
}

/** Inserts many events in one statement: one JSON parameter, so both drivers send it the same way. */
export async function insertEvents(tx: Queryable, records: readonly EventRecord[]): Promise<void> {
  await tx.query(
    `insert into events (organization_id, seq, id, occurred_at, action, actor_id, actor_name, tags, search_text, data, prev_hash, hash)
     select organization_id, seq, id, occurred_at, action, actor_id, actor_name, tags, search_text, data, prev_hash, hash
     from jsonb_to_recordset($1::jsonb) as r(organization_id text, seq bigint, id text, occurred_at timestamptz,
       action text, actor_id text, actor_name text, tags text[], search_text text, data jsonb, prev_hash text, hash text)`,
    [JSON.stringify(records)],
  );
}

/** Moves each head and its stored-events counter; `appended` is how many events the head moved by. */
export async function updateHeads(tx: Queryable, heads: readonly (HeadRow & { appended: number })[]): Promise<void> {
  await tx.query(
    `update org_log_heads h set seq = r.seq, hash = r.hash, events_stored = h.events_stored + r.appended
     from jsonb_to_recordset($1::jsonb) as r(organization_id text, seq bigint, hash text, appended bigint)
     where h.organization_id = r.organization_id`,
    [JSON.stringify(heads)],
  );
}

/** Adds to today's (UTC) ingested count per organization, for metering. */
export async function countIngested(tx: Queryable, heads: readonly { organization_id: string; appended: number }[]): Promise<void> {
  await tx.query(
    `insert into usage_daily (organization_id, day, events_ingested)
     select r.organization_id, (now() at time zone 'utc')::date, r.appended
     from jsonb_to_recordset($1::jsonb) as r(organization_id text, appended bigint)
     on conflict (organization_id, day) do update set events_ingested = usage_daily.events_ingested + excluded.events_ingested`,
    [JSON.stringify(heads)],
  );
}

/** Wakes live tails and stream dispatchers in every process; delivered only when the transaction commits. */
export async function notifyAppended(tx: Queryable, heads: readonly HeadRow[]): Promise<void> {
  await tx.query(`select pg_notify('${LOG_CHANNEL}', p) from unnest($1::text[]) as p`, [
    heads.map((head) => `${head.organization_id}:${head.seq}`),
  ]);
}
