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

export async function updateHeads(tx: Queryable, heads: readonly HeadRow[]): Promise<void> {
  await tx.query(
    `update org_log_heads h set seq = r.seq, hash = r.hash
     from jsonb_to_recordset($1::jsonb) as r(organization_id text, seq bigint, hash text)
     where h.organization_id = r.organization_id`,
    [JSON.stringify(heads)],
  );
}

/** Wakes live tails and stream dispatchers in every process; delivered only when the transaction commits. */
export async function notifyAppended(tx: Queryable, heads: readonly HeadRow[]): Promise<void> {
  await tx.query(`select pg_notify('${LOG_CHANNEL}', p) from unnest($1::text[]) as p`, [
    heads.map((head) => `${head.organization_id}:${head.seq}`),
  ]);
}
