import type { Db, Queryable } from '../db/db.js';
import { insertRecordsSql, type NewIdempotencyRecord } from '../idempotency/idempotency.sql.js';
import { errorCode } from '../shared/error-code.js';

export const LOG_CHANNEL = 'verity_log';

/** SQLSTATE raised by verity_assert_append (migration 0007) when a one-statement append found its heads moved. */
export const STALE_HEAD_SQLSTATE = 'VY001';

export interface HeadRow {
  organization_id: string;
  seq: number;
  hash: string;
}

/** Where an append leaves an organization's head, and where it found it. */
export interface HeadMove extends HeadRow {
  from_seq: number;
  from_hash: string;
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

// Each part of an append is a statement over JSON array parameters, so both drivers send them the same way
// and the parts compose into one statement (appendAtKnownHeads) or run one by one under locks (appendLocked).

function insertEventsSql(records: string): string {
  return `insert into events (organization_id, seq, id, occurred_at, action, actor_id, actor_name, tags, search_text, data, prev_hash, hash)
     select organization_id, seq, id, occurred_at, action, actor_id, actor_name, tags, search_text, data, prev_hash, hash
     from jsonb_to_recordset(${records}::jsonb) as r(organization_id text, seq bigint, id text, occurred_at timestamptz,
       action text, actor_id text, actor_name text, tags text[], search_text text, data jsonb, prev_hash text, hash text)`;
}

const HEAD_MOVES = 'as m(organization_id text, from_seq bigint, from_hash text, seq bigint, hash text)';

/** Moves each head from exactly where the append was chained onto (seq and hash), with its stored-events counter. */
function moveHeadsSql(moves: string): string {
  return `update org_log_heads h set seq = m.seq, hash = m.hash, events_stored = h.events_stored + (m.seq - m.from_seq)
     from jsonb_to_recordset(${moves}::jsonb) ${HEAD_MOVES}
     where h.organization_id = m.organization_id and h.seq = m.from_seq and h.hash = m.from_hash`;
}

/** Adds to today's (UTC) ingested count per organization, for metering. */
function countIngestedSql(moves: string): string {
  return `insert into usage_daily (organization_id, day, events_ingested)
     select m.organization_id, (now() at time zone 'utc')::date, m.seq - m.from_seq
     from jsonb_to_recordset(${moves}::jsonb) ${HEAD_MOVES}
     on conflict (organization_id, day) do update set events_ingested = usage_daily.events_ingested + excluded.events_ingested`;
}

/** Wakes live tails and stream dispatchers in every process; delivered only when the transaction commits. */
function notifySql(moves: string): string {
  return `select pg_notify('${LOG_CHANNEL}', m.organization_id || ':' || m.seq) from jsonb_to_recordset(${moves}::jsonb) ${HEAD_MOVES}`;
}

/** The parts of an append after the heads are known and locked (the slow path). */
export async function appendLocked(tx: Queryable, records: readonly EventRecord[], moves: readonly HeadMove[]): Promise<void> {
  const movesJson = JSON.stringify(moves);
  await tx.query(insertEventsSql('$1'), [JSON.stringify(records)]);
  await tx.query(moveHeadsSql('$1'), [movesJson]);
  await tx.query(countIngestedSql('$1'), [movesJson]);
  await tx.query(notifySql('$1'), [movesJson]);
}

/**
 * The whole append as one statement, in its own implicit transaction: one round trip instead of a
 * transaction of six. It presumes each head is still (seq, hash) where the append was chained onto, and
 * every idempotency key is free; when either is not so, verity_assert_append raises STALE_HEAD_SQLSTATE (or
 * the events primary key refuses a taken seq) and nothing of the statement is kept.
 *
 * The heads are locked first and compared after the lock: a statement that waited for another process's
 * append to the same organization then compares with the row that append left, not with the row as its
 * snapshot saw it. The events are inserted after the heads are locked (the insert reads `moved`).
 */
export async function appendAtKnownHeads(
  db: Queryable,
  records: readonly EventRecord[],
  moves: readonly HeadMove[],
  claims: readonly NewIdempotencyRecord[],
): Promise<void> {
  await db.query(
    `with locked as (
         select h.organization_id, h.seq, h.hash from org_log_heads h
         where h.organization_id in (select m.organization_id from jsonb_to_recordset($2::jsonb) ${HEAD_MOVES})
         order by h.organization_id for update),
       moved as (
         update org_log_heads h set seq = m.seq, hash = m.hash, events_stored = h.events_stored + (m.seq - m.from_seq)
         from locked l, jsonb_to_recordset($2::jsonb) ${HEAD_MOVES}
         where h.organization_id = l.organization_id and m.organization_id = l.organization_id
           and l.seq = m.from_seq and l.hash = m.from_hash
         returning 1),
       inserted as (${insertEventsSql('$1')} where exists (select from moved)),
       counted as (${countIngestedSql('$2')}),
       claimed as (${insertRecordsSql('$3')} returning 1),
       notified as (${notifySql('$2')})
     select verity_assert_append((select count(*) from moved) = $4 and (select count(*) from claimed) = $5)
       and (select count(*) from notified) >= 0 as ok`,
    [JSON.stringify(records), JSON.stringify(moves), JSON.stringify(claims), moves.length, claims.length],
  );
}

/** True when a one-statement append failed because its presumption about the heads or keys was wrong. */
export function isStaleAppend(error: unknown): boolean {
  const code = errorCode(error);
  if (code === STALE_HEAD_SQLSTATE) return true;
  return code === '23505' && error !== null && typeof error === 'object' && 'constraint' in error && error.constraint === 'events_pkey';
}

/** The events table's GIN indexes, whose pending lists GinPendingCleaner merges. */
const GIN_INDEXES = ['events_org_search_idx', 'events_org_tags_idx'];

/**
 * Merges the pending lists of the events table's GIN indexes into the indexes (see GinPendingCleaner);
 * answers the pending-list pages removed.
 */
export async function cleanGinPendingLists(db: Queryable): Promise<number> {
  const merges = GIN_INDEXES.map((name) => `gin_clean_pending_list('${name}'::regclass)`).join(' + ');
  const rows = await db.query<{ pages: number }>(`select ${merges} as pages`);
  return Number(rows[0]?.pages ?? 0);
}

/**
 * Sets the pending-list limit (kB) of the GIN indexes where it differs; answers false, having changed
 * nothing, when an index was busy. ALTER INDEX takes an ACCESS EXCLUSIVE lock on the index: waiting for it
 * behind a long query that reads the index (a search, an export) would queue every insert behind the
 * ALTER, so it waits `lockTimeoutMs` at most (SQLSTATE 55P03) and the caller tries again later. Only the
 * indexes' owner may; others get 42501.
 */
export async function setGinPendingListLimit(db: Db, limitKb: number, lockTimeoutMs: number): Promise<boolean> {
  const limit = Math.trunc(limitKb);
  try {
    await db.transaction(async (tx) => {
      await tx.query(`select set_config('lock_timeout', $1, true)`, [`${Math.trunc(lockTimeoutMs)}ms`]);
      const stale = await tx.query<{ name: string }>(
        `select c.relname as name from pg_class c
         where c.oid = any(array[${GIN_INDEXES.map((name) => `'${name}'::regclass`).join(', ')}])
           and not coalesce(c.reloptions, '{}') @> array[$1]`,
        [`gin_pending_list_limit=${limit}`],
      );
      for (const { name } of stale) await tx.exec(`alter index ${name} set (gin_pending_list_limit = ${limit})`);
    });
    return true;
  } catch (error) {
    if (errorCode(error) === LOCK_NOT_AVAILABLE) return false;
    throw error;
  }
}

const LOCK_NOT_AVAILABLE = '55P03';
