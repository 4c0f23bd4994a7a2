import type { Queryable } from '../db/db.js';

export interface HeadRow {
  seq: number;
  hash: string;
}

/**
 * One event as the chain walk needs it; `data` is PostgreSQL's jsonb text, canonicalised without being
 * parsed. (Separate columns measured cheapest: turning jsonb into text is most of the database's cost, and
 * concatenating or aggregating rows on its side only added to it.)
 */
export interface ChainRow {
  seq: number;
  prev_hash: string;
  hash: string;
  data: string;
  /**
   * Whether the columns searches and exports select by (id, occurred_at, action, actor id and name) say what
   * the hashed document says. They are not hashed themselves: one rewritten in place would hide the event
   * from a time range or filter, or show it under another, while every hash still held.
   */
  columns_match: boolean;
}

export interface PurgedRangeRow {
  first_seq: number;
  last_seq: number;
  last_hash: string;
  purged_at: Date;
  /** The server's signature over the range (range-signature.ts); null only before ranges were signed. */
  key_id: string | null;
  signature: string | null;
}

const RANGE_COLUMNS = 'first_seq, last_seq, last_hash, purged_at, key_id, signature';

export interface CheckpointRow {
  organization_id: string;
  seq: number;
  hash: string;
  created_at: Date;
  key_id: string;
  signature: string;
}

export interface CheckpointCandidate {
  organization_id: string;
  seq: number;
  hash: string;
  checkpoint_seq: number | null;
}

export async function selectHead(db: Queryable, organizationId: string): Promise<HeadRow | undefined> {
  const rows = await db.query<HeadRow>('select seq, hash from org_log_heads where organization_id = $1', [organizationId]);
  return rows[0];
}

/** The next chunk of the chain after `afterSeq` (keyset pagination on the primary key), up to `maxSeq`. */
export async function selectChainChunk(db: Queryable, organizationId: string, afterSeq: number, maxSeq: number, limit: number): Promise<ChainRow[]> {
  return db.query<ChainRow>(
    `select seq, prev_hash, hash, data::text as data,
       coalesce(id = data->>'id' and action = data->>'action'
         -- Compared as text, as ingest writes it (toISOString): a cast would fail the whole walk on a
         -- document whose occurred_at was rewritten into something that is not a time.
         and to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') = data->>'occurred_at'
         and actor_id = data#>>'{actor,id}' and actor_name is not distinct from data#>>'{actor,name}', false) as columns_match
     from events
     where organization_id = $1 and seq > $2 and seq <= $3
     order by seq limit $4`,
    [organizationId, afterSeq, maxSeq, limit],
  );
}

/** Purged ranges that overlap fromSeq..toSeq, in seq order. */
export async function selectRangesOverlapping(db: Queryable, organizationId: string, fromSeq: number, toSeq: number): Promise<PurgedRangeRow[]> {
  return db.query<PurgedRangeRow>(
    `select ${RANGE_COLUMNS} from purged_ranges
     where organization_id = $1 and last_seq >= $2 and first_seq <= $3
     order by first_seq`,
    [organizationId, fromSeq, toSeq],
  );
}

const RUN_COLUMNS = 'p.first_seq, p.last_seq, p.last_hash, p.purged_at, p.key_id, p.signature';

/**
 * The end of the purged run that starts the log, if retention removed its beginning: the chain's anchor.
 * The run may be several adjacent ranges (retention writes a range of its own beside one it does not
 * merge into, e.g. one a retired key signed).
 */
export async function selectAnchor(db: Queryable, organizationId: string): Promise<PurgedRangeRow | undefined> {
  const rows = await db.query<PurgedRangeRow>(
    `with recursive run as (
       select ${RUN_COLUMNS} from purged_ranges p where p.organization_id = $1 and p.first_seq = 1
       union all
       select ${RUN_COLUMNS} from purged_ranges p join run r on p.organization_id = $1 and p.first_seq = r.last_seq + 1
     )
     select ${RANGE_COLUMNS} from run order by last_seq desc limit 1`,
    [organizationId],
  );
  return rows[0];
}

/** The adjacent purged ranges that end at `lastSeq`, back to the first of them, in seq order. */
export async function selectRunEndingAt(db: Queryable, organizationId: string, lastSeq: number): Promise<PurgedRangeRow[]> {
  return db.query<PurgedRangeRow>(
    `with recursive run as (
       select ${RUN_COLUMNS} from purged_ranges p where p.organization_id = $1 and p.last_seq = $2
       union all
       select ${RUN_COLUMNS} from purged_ranges p join run r on p.organization_id = $1 and p.last_seq = r.first_seq - 1
     )
     select ${RANGE_COLUMNS} from run order by first_seq`,
    [organizationId, lastSeq],
  );
}

const CHECKPOINT_COLUMNS = 'organization_id, seq, hash, created_at, key_id, signature';

export async function selectCheckpointsBetween(db: Queryable, organizationId: string, fromSeq: number, toSeq: number, limit: number): Promise<CheckpointRow[]> {
  return db.query<CheckpointRow>(
    `select ${CHECKPOINT_COLUMNS} from checkpoints
     where organization_id = $1 and seq >= $2 and seq <= $3
     order by seq limit $4`,
    [organizationId, fromSeq, toSeq, limit],
  );
}

/** The highest checkpointed seq of an organization (0 when it has none). */
export async function selectLatestCheckpointSeq(db: Queryable, organizationId: string): Promise<number> {
  const rows = await db.query<{ seq: number | null }>('select max(seq) as seq from checkpoints where organization_id = $1', [organizationId]);
  return rows[0]?.seq ?? 0;
}

/** The key that signed the newest checkpoint of any organization: the server's current key, as far as the database knows. */
export async function selectNewestCheckpointKeyId(db: Queryable): Promise<string | undefined> {
  const rows = await db.query<{ key_id: string }>('select key_id from checkpoints order by created_at desc limit 1');
  return rows[0]?.key_id;
}

/** The first checkpoint after `seq`, if any. */
export async function selectCheckpointAfter(db: Queryable, organizationId: string, seq: number): Promise<CheckpointRow | undefined> {
  const rows = await db.query<CheckpointRow>(
    `select ${CHECKPOINT_COLUMNS} from checkpoints where organization_id = $1 and seq > $2 order by seq limit 1`,
    [organizationId, seq],
  );
  return rows[0];
}

export async function selectRecentCheckpoints(db: Queryable, organizationId: string, limit: number): Promise<CheckpointRow[]> {
  return db.query<CheckpointRow>(
    `select ${CHECKPOINT_COLUMNS} from checkpoints where organization_id = $1 order by seq desc limit $2`,
    [organizationId, limit],
  );
}

/**
 * Organizations whose head moved past their last checkpoint by at least `minEvents` events (1: any
 * movement), with the head to sign. The lateral lookup uses the checkpoints primary key.
 */
export async function selectCheckpointCandidates(db: Queryable, minEvents: number): Promise<CheckpointCandidate[]> {
  return db.query<CheckpointCandidate>(
    `select h.organization_id, h.seq, h.hash, c.seq as checkpoint_seq
     from org_log_heads h
     left join lateral (
       select seq from checkpoints c where c.organization_id = h.organization_id order by seq desc limit 1
     ) c on true
     where h.seq - coalesce(c.seq, 0) >= $1
     order by h.organization_id`,
    [Math.max(1, minEvents)],
  );
}

/** Stores a signed checkpoint; a second one for the same (organization, seq) is ignored. Returns whether it was new. */
export async function insertCheckpoint(db: Queryable, row: CheckpointRow): Promise<boolean> {
  const inserted = await db.query(
    `insert into checkpoints (organization_id, seq, hash, created_at, key_id, signature)
     values ($1, $2, $3, $4::timestamptz, $5, $6)
     on conflict (organization_id, seq) do nothing
     returning seq`,
    [row.organization_id, row.seq, row.hash, row.created_at.toISOString(), row.key_id, row.signature],
  );
  return inserted.length > 0;
}

export async function selectCheckpointAt(db: Queryable, organizationId: string, seq: number): Promise<CheckpointRow | undefined> {
  const rows = await db.query<CheckpointRow>(`select ${CHECKPOINT_COLUMNS} from checkpoints where organization_id = $1 and seq = $2`, [organizationId, seq]);
  return rows[0];
}

/** The stored hash of one event (undefined when it does not exist, e.g. purged). */
export async function selectEventHash(db: Queryable, organizationId: string, seq: number): Promise<string | undefined> {
  const rows = await db.query<{ hash: string }>('select hash from events where organization_id = $1 and seq = $2', [organizationId, seq]);
  return rows[0]?.hash;
}

/** Stored events with seq in fromSeq..toSeq (a primary-key range count). */
export async function countEventsBetween(db: Queryable, organizationId: string, fromSeq: number, toSeq: number): Promise<number> {
  const rows = await db.query<{ n: number }>(
    'select count(*)::int as n from events where organization_id = $1 and seq >= $2 and seq <= $3',
    [organizationId, fromSeq, toSeq],
  );
  return rows[0]?.n ?? 0;
}

/** Takes the one-time backfill `name`: false when it already ran (or another process is running it). */
export async function claimBackfill(tx: Queryable, name: string): Promise<boolean> {
  const rows = await tx.query('insert into integrity_backfills (name, rows_signed) values ($1, 0) on conflict (name) do nothing returning name', [name]);
  return rows.length > 0;
}

export async function finishBackfill(tx: Queryable, name: string, rowsSigned: number): Promise<void> {
  await tx.query('update integrity_backfills set rows_signed = $2, done_at = now() where name = $1', [name, rowsSigned]);
}

export interface UnsignedRangeRow {
  organization_id: string;
  first_seq: number;
  last_seq: number;
  last_hash: string;
  purged_at: Date;
}

export async function selectUnsignedRanges(tx: Queryable): Promise<UnsignedRangeRow[]> {
  return tx.query<UnsignedRangeRow>('select organization_id, first_seq, last_seq, last_hash, purged_at from purged_ranges where signature is null order by organization_id, first_seq');
}

export async function updateRangeSignature(tx: Queryable, organizationId: string, firstSeq: number, signed: { key_id: string; signature: string }): Promise<void> {
  await tx.query('update purged_ranges set key_id = $3, signature = $4 where organization_id = $1 and first_seq = $2', [organizationId, firstSeq, signed.key_id, signed.signature]);
}
