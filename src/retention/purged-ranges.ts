/**
 * Bookkeeping of purged sequence numbers. The chain is verified by walking events in seq order: an
 * event's prev_hash must be the previous event's hash or, right after a purged run, that run's last_hash.
 * So every maximal run of purged seqs must be recorded exactly once, with the hash of its last event.
 */
export interface PurgedRange {
  first_seq: number;
  last_seq: number;
  last_hash: string;
  event_count: number;
}

/** A range as stored: when it was purged and the server's signature over it (null on rows that predate signing). */
export interface StoredPurgedRange extends PurgedRange {
  purged_at: Date;
  key_id: string | null;
  signature: string | null;
}

/** Maximal runs of consecutive seqs among deleted events (in any order). */
export function runsOf(deleted: readonly { seq: number; hash: string }[]): PurgedRange[] {
  const sorted = [...deleted].sort((a, b) => a.seq - b.seq);
  const runs: PurgedRange[] = [];
  let current: PurgedRange | undefined;
  for (const { seq, hash } of sorted) {
    if (current !== undefined && seq === current.last_seq + 1) {
      current.last_seq = seq;
      current.last_hash = hash;
      current.event_count += 1;
    } else {
      if (current !== undefined) runs.push(current);
      current = { first_seq: seq, last_seq: seq, last_hash: hash, event_count: 1 };
    }
  }
  if (current !== undefined) runs.push(current);
  return runs;
}

/** The seqs at which existing ranges must end or start to touch one of these runs. */
export function neighbourKeys(runs: readonly PurgedRange[]): { endingAt: number[]; startingAt: number[] } {
  return { endingAt: runs.map((run) => run.first_seq - 1), startingAt: runs.map((run) => run.last_seq + 1) };
}

/**
 * Merges new runs with the existing ranges that touch them. A range a..b followed by a run b+1..c becomes
 * a..c with the run's last hash; a run ending right before a range's first_seq absorbs that range and
 * takes its last hash (the range's events come later in the chain). A run can bridge two ranges.
 *
 * `existing` holds at least every range adjacent to a run (more is harmless). Returns the ranges to write
 * and the first_seq of every existing range they replace.
 */
export function mergeRuns(runs: readonly PurgedRange[], existing: readonly PurgedRange[]): { write: PurgedRange[]; replace: number[] } {
  const byLast = new Map(existing.map((range) => [range.last_seq, range]));
  const byFirst = new Map(existing.map((range) => [range.first_seq, range]));
  const replace = new Set<number>();
  const write: PurgedRange[] = [];
  let current: PurgedRange | undefined;

  const absorbFollowing = (range: PurgedRange): void => {
    for (let next = byFirst.get(range.last_seq + 1); next !== undefined && !replace.has(next.first_seq); next = byFirst.get(range.last_seq + 1)) {
      replace.add(next.first_seq);
      range.last_seq = next.last_seq;
      range.last_hash = next.last_hash;
      range.event_count += next.event_count;
    }
  };

  for (const run of [...runs].sort((a, b) => a.first_seq - b.first_seq)) {
    if (current !== undefined && current.last_seq + 1 === run.first_seq) {
      current.last_seq = run.last_seq;
      current.last_hash = run.last_hash;
      current.event_count += run.event_count;
    } else {
      if (current !== undefined) write.push(current);
      const before = byLast.get(run.first_seq - 1);
      if (before !== undefined && !replace.has(before.first_seq)) {
        replace.add(before.first_seq);
        current = { first_seq: before.first_seq, last_seq: run.last_seq, last_hash: run.last_hash, event_count: before.event_count + run.event_count };
      } else {
        current = { ...run };
      }
    }
    absorbFollowing(current);
  }
  if (current !== undefined) write.push(current);
  return { write, replace: [...replace] };
}
