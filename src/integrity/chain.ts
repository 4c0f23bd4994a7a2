import type { KeyObject } from 'node:crypto';
import os from 'node:os';
import type { Queryable } from '../db/db.js';
import { AppError } from '../errors/app-error.js';
import { GENESIS_HASH } from '../ingest/hash.js';
import { checkpointSignatureValid } from './checkpoint.js';
import { HashPool, InlineHashChecker, type HashChecker } from './hash-pool.js';
import { purgedRangeSignatureValid, rangeStatement } from './range-signature.js';
import {
  selectChainChunk,
  selectCheckpointsBetween,
  selectHead,
  selectLatestCheckpointSeq,
  selectRangesOverlapping,
  type ChainRow,
  type CheckpointRow,
  type PurgedRangeRow,
} from './integrity.sql.js';

/**
 * What can be wrong with a stored chain, by where it shows:
 * - hash_mismatch: an event's hash does not recompute from its prev_hash and content (content changed);
 * - columns_mismatch: an event's search columns (id, occurred_at, action, actor) disagree with its hashed
 *   content (rewritten in place, so searches, filters and exports would miss or misplace it);
 * - prev_hash_mismatch: an event does not link to the previous event (or purged run) — reordered, or
 *   an earlier event was rewritten together with its hash;
 * - missing_event: a seq is neither stored nor covered by a purged range (deleted);
 * - purged_range_unsigned / purged_range_signature_invalid: a purged range the server did not sign (written
 *   into the database by hand, to pass events deleted outside retention off as purged), or whose fields
 *   were changed after it signed them (widened over more events);
 * - head_mismatch: the organization's head (seq, hash) is not the chain's end (tail deleted or rewritten);
 * - checkpoint_mismatch: a signed checkpoint's (seq, hash) disagrees with the chain (history rewritten
 *   consistently after it was signed);
 * - checkpoint_signature_invalid: a stored checkpoint's signature does not verify;
 * - checkpoint_beyond_head: a checkpoint vouches for a seq the log no longer reaches (tail truncated and
 *   the head moved back).
 */
export type ChainProblem =
  | 'hash_mismatch'
  | 'columns_mismatch'
  | 'prev_hash_mismatch'
  | 'missing_event'
  | 'purged_range_unsigned'
  | 'purged_range_signature_invalid'
  | 'purged_range_unknown_key'
  | 'head_mismatch'
  | 'checkpoint_mismatch'
  | 'checkpoint_signature_invalid'
  | 'checkpoint_beyond_head';

export interface ChainVerification {
  valid: boolean;
  /** Events whose hash was recomputed and link checked. */
  checked: number;
  /** The head the walk verified up to (events appended during the walk are not included). */
  head: { seq: number; hash: string };
  first_bad_seq?: number;
  reason?: ChainProblem;
  /** Stored checkpoints whose signature and (seq, hash) were checked (only with `checkpointKeys`). */
  checkpoints_checked?: number;
  /** Checkpoints signed by a key not in `checkpointKeys` (e.g. before a key rotation): not checked. */
  checkpoints_unverifiable?: number;

}

export interface VerifyStoredChainOptions {
  /** Events per database read (keyset pagination on the primary key); memory stays flat. Default 1,000. */
  chunkSize?: number;
  /**
   * When given, every stored checkpoint is checked too (signature by the key its key_id names, (seq, hash)
   * against the chain), and so is the signature of every purged range the walk crosses.
   */
  checkpointKeys?: ReadonlyMap<string, KeyObject>;
  /**
   * Recompute hashes on worker threads. Default: for logs of 50,000 events or more on machines with at
   * least 3 cores; inline whenever workers cannot start.
   */
  parallel?: boolean;
}

// 1,000 measured fastest (against 500 to 10,000): a large chunk (10,000 events are ~10 MB of strings)
// outlives young-generation collections, which then copy and promote it — garbage collection took a
// seventh of the walk — while smaller ones pay more round trips.
const DEFAULT_CHUNK = 1_000;
// From this many events on, and with a core to spare beside this thread and the database, hashes are
// recomputed on worker threads (starting them costs some 50 ms; on two cores they only add copying).
const PARALLEL_FROM = 50_000;
const PARALLEL_MIN_CORES = 3;
const CHECKPOINT_PAGE = 1_000;
const MAX_RESTARTS = 3;

/** Thrown inside a walk when a purge ran concurrently and moved a range over an event already read. */
class ConcurrentPurge extends Error {}

/**
 * Re-walks an organization's stored chain: events and purged_ranges in seq order, in chunks of
 * `chunkSize` with keyset pagination, so memory is constant whatever the log's size.
 *
 * The chain rule: walk events in seq order; each event's hash must be SHA-256(prev_hash ‖ RFC 8785 JSON of
 * the event); its prev_hash must equal the previous event's hash, or — right after a purged run — that
 * run's last_hash (a run starting at seq 1 is the anchor; otherwise the first prev_hash is the genesis
 * hash); the last event (or purged run) must be the organization's head.
 *
 * Safe to run while ingest and retention run: it verifies up to the head it read first, and a gap is
 * looked up in purged_ranges only after the events around it were read (a purge deletes events and
 * records their range in one commit). A purge that overtakes the walk restarts it.
 */
export async function verifyStoredChain(db: Queryable, organizationId: string, options: VerifyStoredChainOptions = {}): Promise<ChainVerification> {
  const head = await selectHead(db, organizationId);
  if (head === undefined) throw new AppError('not_found', `Organization not found: '${organizationId}'.`);
  const cores = os.availableParallelism();
  const parallel = options.parallel ?? (head.seq >= PARALLEL_FROM && cores >= PARALLEL_MIN_CORES);
  const hasher: HashChecker = (parallel ? await HashPool.start(Math.max(1, Math.min(4, cores - 2))) : undefined) ?? new InlineHashChecker();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        return await walk(db, organizationId, options, hasher);
      } catch (error) {
        if (!(error instanceof ConcurrentPurge) || attempt >= MAX_RESTARTS) throw error;
      }
    }
  } finally {
    await hasher.close();
  }
}

/** Rows of one chunk whose hashes are being recomputed (on worker threads) while the walk reads on. */
interface HashJob {
  rows: ChainRow[];
  /** Verified events before this chunk. */
  before: number;
  bad: Promise<number>;
}

async function walk(db: Queryable, organizationId: string, options: VerifyStoredChainOptions, hasher: HashChecker): Promise<ChainVerification> {
  const head = await selectHead(db, organizationId);
  if (head === undefined) throw new AppError('not_found', `Organization not found: '${organizationId}'.`);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  const keys = options.checkpointKeys;
  const checkpoints = keys === undefined ? undefined : new CheckpointCursor(db, organizationId, head.seq, keys);

  let expected = 1;
  let prev = GENESIS_HASH;
  let checked = 0;
  let submitted = 0;
  const result = (extra: Partial<ChainVerification> = {}): ChainVerification => {
    const out: ChainVerification = { valid: extra.reason === undefined, checked, head: { seq: head.seq, hash: head.hash }, ...extra };
    if (checkpoints !== undefined) {
      out.checkpoints_checked = checkpoints.checked;
      out.checkpoints_unverifiable = checkpoints.unverifiable;
    }
    return out;
  };

  /** Crosses seqs from..to, which must be covered exactly by purged ranges; returns the problem, if any. */
  const bridge = async (from: number, to: number): Promise<ChainProblem | undefined> => {
    const ranges = await selectRangesOverlapping(db, organizationId, from, to);
    let next = from;
    for (const range of ranges) {
      if (range.first_seq > next) break;
      if (range.last_seq > to) {
        // The event after the gap was read, yet a range now covers it: a purge ran in between.
        throw new ConcurrentPurge();
      }
      if (keys !== undefined) {
        const verdict = rangeVerdict(organizationId, range, keys);
        if (verdict !== 'valid') {
          expected = range.first_seq;
          return verdict;
        }
      }
      next = range.last_seq + 1;
      prev = range.last_hash;
      const problem = await checkpoints?.passRange(range);
      if (problem !== undefined) return problem;
    }
    if (next <= to) {
      expected = next;
      return 'missing_event';
    }
    expected = to + 1;
    return undefined;
  };

  const startHashing = (rows: ChainRow[]): HashJob => {
    const job: HashJob = {
      rows,
      before: submitted,
      bad: hasher.check(rows),
    };
    submitted += rows.length;
    return job;
  };
  /**
   * Waits for a chunk's hashes. Problems are reported in seq order: a changed event in an earlier chunk
   * (or earlier in this one) comes before any link or checkpoint problem found after it.
   */
  const settle = async (job: HashJob): Promise<ChainVerification | undefined> => {
    const bad = await job.bad;
    if (bad !== -1) {
      checked = job.before + bad;
      return result({ reason: 'hash_mismatch', first_bad_seq: (job.rows[bad] as ChainRow).seq });
    }
    checked = job.before + job.rows.length;
    return undefined;
  };

  let pending: Promise<ChainRow[]> | undefined = selectChainChunk(db, organizationId, 0, head.seq, chunkSize);
  let hashing: HashJob | undefined;
  try {
    while (pending !== undefined) {
      const rows: ChainRow[] = await pending;
      const last = rows[rows.length - 1];
      // Ask for the next chunk at once: the database works while this chunk is checked and hashed.
      pending = last !== undefined && rows.length === chunkSize ? selectChainChunk(db, organizationId, last.seq, head.seq, chunkSize) : undefined;
      // Links, gaps and checkpoints here, in order; the hashes of the rows before any problem beside it.
      let problem: { reason: ChainProblem; seq: number } | undefined;
      let upTo = rows.length;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as ChainRow;
        if (row.seq !== expected) {
          const gap = await bridge(expected, row.seq - 1);
          if (gap !== undefined) problem = { reason: gap, seq: gap === 'missing_event' ? expected : (checkpoints?.badSeq ?? expected) };
        }
        if (problem === undefined && row.prev_hash !== prev) problem = { reason: 'prev_hash_mismatch', seq: row.seq };
        if (problem !== undefined) {
          upTo = i;
          break;
        }
        if (!row.columns_match) {
          // Hashed too: a changed document (its hash fails) is the deeper problem, and is reported first.
          problem = { reason: 'columns_mismatch', seq: row.seq };
          upTo = i + 1;
          break;
        }
        if (checkpoints !== undefined && checkpoints.nextSeq <= row.seq) {
          const found = await checkpoints.passEvent(row.seq, row.hash);
          if (found !== undefined) {
            // Compared with the stored hash, which counts only if it recomputes: this row is hashed too.
            problem = { reason: found, seq: checkpoints.badSeq ?? row.seq };
            upTo = i + 1;
            break;
          }
        }
        prev = row.hash;
        expected = row.seq + 1;
      }
      const previous = hashing;
      hashing = startHashing(upTo === rows.length ? rows : rows.slice(0, upTo));
      if (previous !== undefined) {
        const failed = await settle(previous);
        if (failed !== undefined) return failed;
      }
      if (problem !== undefined) {
        const job = hashing;
        hashing = undefined;
        return (await settle(job)) ?? result({ reason: problem.reason, first_bad_seq: problem.seq });
      }
    }
    if (hashing !== undefined) {
      const job = hashing;
      hashing = undefined;
      const failed = await settle(job);
      if (failed !== undefined) return failed;
    }
  } finally {
    // An early return leaves the prefetch (and maybe a hash job) running; their outcome no longer matters.
    pending?.catch(() => undefined);
    hashing?.bad.catch(() => undefined);
  }

  if (expected <= head.seq) {
    const problem = await bridge(expected, head.seq);
    if (problem !== undefined) return result({ reason: problem, first_bad_seq: problem === 'missing_event' ? expected : (checkpoints?.badSeq ?? expected) });
  }
  if (head.seq > 0 && prev !== head.hash) return result({ reason: 'head_mismatch', first_bad_seq: head.seq });
  if (checkpoints !== undefined) {
    const problem = await checkpoints.finish();
    if (problem !== undefined) return result({ reason: problem, first_bad_seq: checkpoints.badSeq ?? head.seq });
  }
  return result();
}

/**
 * Whether a stored purged range carries a valid signature by one of `keys`. A key not among them fails
 * too: unlike a checkpoint, which only adds evidence, a range removes events from the chain, and anyone can
 * write a row naming a key the verifier does not hold.
 */
function rangeVerdict(organizationId: string, range: PurgedRangeRow, keys: ReadonlyMap<string, KeyObject>): 'valid' | 'purged_range_unsigned' | 'purged_range_signature_invalid' | 'purged_range_unknown_key' {
  if (range.key_id === null || range.signature === null) return 'purged_range_unsigned';
  const key = keys.get(range.key_id);
  if (key === undefined) return 'purged_range_unknown_key';
  return purgedRangeSignatureValid(key, { ...rangeStatement(organizationId, range), signature: range.signature }) ? 'valid' : 'purged_range_signature_invalid';
}

/**
 * Stored checkpoints merged into the walk in seq order, a page at a time: each is checked when the walk
 * reaches its seq, against the event there or the purged run ending there.
 */
class CheckpointCursor {
  checked = 0;
  unverifiable = 0;
  badSeq: number | undefined;
  private page: CheckpointRow[] = [];
  private index = 0;
  private after = 0;
  private exhausted = false;

  constructor(
    private readonly db: Queryable,
    private readonly organizationId: string,
    private readonly headSeq: number,
    private readonly keys: ReadonlyMap<string, KeyObject>,
  ) {}

  /** The seq of the next unchecked checkpoint (Infinity when none is left or not loaded yet: see passEvent). */
  get nextSeq(): number {
    if (this.index < this.page.length) return (this.page[this.index] as CheckpointRow).seq;
    return this.exhausted ? Infinity : this.after + 1;
  }

  async passEvent(seq: number, hash: string): Promise<ChainProblem | undefined> {
    return this.pass(seq, (checkpoint) => (checkpoint.seq === seq ? hash : undefined));
  }

  /** A checkpoint inside a purged run can only be compared at the run's last seq. */
  async passRange(range: PurgedRangeRow): Promise<ChainProblem | undefined> {
    return this.pass(range.last_seq, (checkpoint) => (checkpoint.seq === range.last_seq ? range.last_hash : undefined));
  }

  /** Checkpoints beyond the verified head: only legitimate if the log has since grown past them. */
  async finish(): Promise<ChainProblem | undefined> {
    const latest = await selectLatestCheckpointSeq(this.db, this.organizationId);
    if (latest <= this.headSeq) return undefined;
    // Read after the checkpoint: the head never moves back, so it covers any checkpoint signed before
    // (checkpoints signed since the walk began are legitimate as long as the head reaches them).
    const current = await selectHead(this.db, this.organizationId);
    if (current !== undefined && latest > current.seq) {
      this.badSeq = latest;
      return 'checkpoint_beyond_head';
    }
    return undefined;
  }

  private async pass(upTo: number, hashAt: (checkpoint: CheckpointRow) => string | undefined): Promise<ChainProblem | undefined> {
    for (;;) {
      if (this.index >= this.page.length) {
        if (this.exhausted || this.after >= upTo) return undefined;
        await this.load();
        continue;
      }
      const checkpoint = this.page[this.index] as CheckpointRow;
      if (checkpoint.seq > upTo) return undefined;
      this.index += 1;
      const key = this.keys.get(checkpoint.key_id);
      if (key === undefined) {
        this.unverifiable += 1;
        continue;
      }
      const statement = { ...checkpoint, created_at: checkpoint.created_at.toISOString() };
      if (!checkpointSignatureValid(key, statement)) {
        this.badSeq = checkpoint.seq;
        return 'checkpoint_signature_invalid';
      }
      const expected = hashAt(checkpoint);
      if (expected !== undefined && expected !== checkpoint.hash) {
        this.badSeq = checkpoint.seq;
        return 'checkpoint_mismatch';
      }
      // Inside a purged run (not at its end) only the signature can be checked.
      this.checked += 1;
    }
  }

  private async load(): Promise<void> {
    this.page = await selectCheckpointsBetween(this.db, this.organizationId, this.after + 1, this.headSeq, CHECKPOINT_PAGE);
    this.index = 0;
    const last = this.page[this.page.length - 1];
    if (last !== undefined) this.after = last.seq;
    if (this.page.length < CHECKPOINT_PAGE) this.exhausted = true;
  }
}
