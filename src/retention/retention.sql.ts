import type { Queryable } from '../db/db.js';
import type { PurgedRange, StoredPurgedRange } from './purged-ranges.js';

/**
 * Serialises purge batches of one organization, and legal-hold changes with them, without touching the
 * head row that ingest locks: a transaction-scoped advisory lock keyed by the organization.
 */
export async function lockPurge(tx: Queryable, organizationId: string): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock(hashtextextended('verity.retention:' || $1, 0))`, [organizationId]);
}

/**
 * Compresses the full-page images in this transaction's WAL with lz4, when this connection may and the
 * server can (wal_compression is a superuser setting; lz4 is a build option): false otherwise, with the
 * transaction unharmed. See RetentionService for why.
 */
export async function compressWal(tx: Queryable): Promise<boolean> {
  await tx.query('savepoint verity_wal_compression');
  try {
    await tx.query('set local wal_compression = lz4');
    await tx.query('release savepoint verity_wal_compression');
    return true;
  } catch {
    await tx.query('rollback to savepoint verity_wal_compression');
    return false;
  }
}

export interface PurgeCandidate {
  id: string;
  legal_hold: boolean;
}

export async function selectPurgeCandidates(db: Queryable): Promise<PurgeCandidate[]> {
  return db.query<PurgeCandidate>('select id, legal_hold from organizations order by id');
}

/**
 * The organization's hold and its cutoff: events that occurred before it are expired. The cutoff is
 * measured from the run's start, so a run ends even while expired events keep arriving.
 */
export async function selectPurgeTarget(tx: Queryable, organizationId: string, runStartedAt: Date): Promise<{ legal_hold: boolean; cutoff: Date } | undefined> {
  const rows = await tx.query<{ legal_hold: boolean; cutoff: Date }>(
    `select legal_hold, $2::timestamptz - make_interval(days => retention_period_in_days) as cutoff
     from organizations where id = $1`,
    [organizationId, runStartedAt.toISOString()],
  );
  return rows[0];
}

/** What one batch deleted: each event's seq and hash, and the latest occurred_at among them. */
export interface DeletedBatch {
  deleted: { seq: number; hash: string }[];
  reached: Date | null;
}

/**
 * Deletes up to `limit` expired events, oldest first (the (organization, occurred_at) index serves it).
 * `from` is where the previous batch stopped: starting there skips the index entries of rows already
 * deleted in this run, which a scan from the beginning would wade through again in every batch.
 *
 * Measured on a million events, against deleting through a primary-key join and returning every row: rows
 * are deleted by their physical address (ctid: events are never updated, and the addresses are read in
 * the same statement, under the same snapshot), and the seqs and hashes come back as two strings rather
 * than thousands of rows (with a timestamp each) for the driver to parse.
 */
export async function deleteExpiredBatch(tx: Queryable, organizationId: string, from: Date | null, cutoff: Date, limit: number): Promise<DeletedBatch> {
  const rows = await tx.query<{ seqs: string | null; hashes: string | null; reached: Date | null }>(
    `with gone as (
       delete from events e
       where e.ctid = any(array(
         select ctid from events
         where organization_id = $1 and occurred_at < $3::timestamptz and ($2::timestamptz is null or occurred_at >= $2::timestamptz)
         order by occurred_at limit $4
       )) and e.organization_id = $1
       returning e.seq, e.hash, e.occurred_at
     )
     select string_agg(seq::text, ',' order by seq) as seqs, string_agg(hash, ',' order by seq) as hashes, max(occurred_at) as reached
     from gone`,
    [organizationId, from?.toISOString() ?? null, cutoff.toISOString(), limit],
  );
  const row = rows[0];
  if (row?.seqs == null || row.hashes == null) return { deleted: [], reached: null };
  const hashes = row.hashes.split(',');
  const deleted = row.seqs.split(',').map((seq, i) => ({ seq: Number(seq), hash: hashes[i] as string }));
  return { deleted, reached: row.reached };
}

/** Existing ranges that end at one of `endingAt` or start at one of `startingAt`. */
export async function selectAdjacentRanges(tx: Queryable, organizationId: string, endingAt: readonly number[], startingAt: readonly number[]): Promise<StoredPurgedRange[]> {
  return tx.query<StoredPurgedRange>(
    `select first_seq, last_seq, last_hash, event_count, purged_at, key_id, signature from purged_ranges
     where organization_id = $1 and (last_seq = any($2::bigint[]) or first_seq = any($3::bigint[]))`,
    [organizationId, endingAt, startingAt],
  );
}

/** A range to write, with when it was purged and, when the server signs ranges, its signature. */
export interface RangeToWrite extends PurgedRange {
  purged_at: string;
  key_id: string | null;
  signature: string | null;
}

export async function replaceRanges(tx: Queryable, organizationId: string, replace: readonly number[], write: readonly RangeToWrite[]): Promise<void> {
  if (replace.length > 0) {
    await tx.query('delete from purged_ranges where organization_id = $1 and first_seq = any($2::bigint[])', [organizationId, replace]);
  }
  await tx.query(
    `insert into purged_ranges (organization_id, first_seq, last_seq, last_hash, event_count, purged_at, key_id, signature)
     select $1, r.first_seq, r.last_seq, r.last_hash, r.event_count, r.purged_at, r.key_id, r.signature
     from jsonb_to_recordset($2::jsonb) as r(first_seq bigint, last_seq bigint, last_hash text, event_count bigint,
       purged_at timestamptz, key_id text, signature text)`,
    [organizationId, JSON.stringify(write)],
  );
}

/**
 * Takes the purged events off the stored counter. This locks the head row that ingest appends under, so
 * it is the batch's last statement: the lock is held only for the commit.
 */
export async function decrementStored(tx: Queryable, organizationId: string, count: number): Promise<void> {
  await tx.query('update org_log_heads set events_stored = events_stored - $2 where organization_id = $1', [organizationId, count]);
}

export async function updateLegalHold(tx: Queryable, organizationId: string, enabled: boolean, reason: string | null): Promise<boolean> {
  const rows = await tx.query(
    `update organizations set legal_hold = $2, legal_hold_reason = $3, legal_hold_updated_at = now(), updated_at = now()
     where id = $1 returning id`,
    [organizationId, enabled, reason],
  );
  return rows.length > 0;
}
