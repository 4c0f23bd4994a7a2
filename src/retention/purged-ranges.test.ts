import { describe, expect, it } from 'vitest';
import { mergeRuns, neighbourKeys, runsOf, type PurgedRange } from './purged-ranges.js';

const ev = (seq: number): { seq: number; hash: string } => ({ seq, hash: `h${seq}` });
const range = (first: number, last: number, count = last - first + 1): PurgedRange => ({ first_seq: first, last_seq: last, last_hash: `h${last}`, event_count: count });

describe('runsOf', () => {
  it('splits deleted events into maximal runs of consecutive seqs, whatever their order', () => {
    expect(runsOf([ev(7), ev(3), ev(5), ev(6), ev(1), ev(2)])).toEqual([range(1, 3), range(5, 7)]);
    expect(runsOf([])).toEqual([]);
    expect(runsOf([ev(9)])).toEqual([range(9, 9)]);
  });
});

describe('mergeRuns', () => {
  it('writes runs that touch nothing as they are', () => {
    expect(mergeRuns([range(4, 5)], [range(1, 2)])).toEqual({ write: [range(4, 5)], replace: [] });
  });

  it('extends a range followed by a run: a..b + b+1..c → a..c with the run’s last hash', () => {
    expect(mergeRuns([range(4, 6)], [range(1, 3)])).toEqual({ write: [{ first_seq: 1, last_seq: 6, last_hash: 'h6', event_count: 6 }], replace: [1] });
  });

  it('a run right before a range absorbs it and keeps that range’s last hash', () => {
    expect(mergeRuns([range(1, 3)], [range(4, 9)])).toEqual({ write: [{ first_seq: 1, last_seq: 9, last_hash: 'h9', event_count: 9 }], replace: [4] });
  });

  it('a run bridging two ranges makes one', () => {
    expect(mergeRuns([range(4, 4)], [range(1, 3), range(5, 8)])).toEqual({
      write: [{ first_seq: 1, last_seq: 8, last_hash: 'h8', event_count: 8 }],
      replace: [1, 5],
    });
  });

  it('several runs and ranges chain together in one batch', () => {
    // Runs 1–2 and 6–7 around the existing 3–5, plus a lone 10 next to the existing 11–12.
    const merged = mergeRuns([range(6, 7), range(1, 2), range(10, 10)], [range(3, 5), range(11, 12)]);
    expect(merged.write).toEqual([
      { first_seq: 1, last_seq: 7, last_hash: 'h7', event_count: 7 },
      { first_seq: 10, last_seq: 12, last_hash: 'h12', event_count: 3 },
    ]);
    expect(merged.replace.sort((a, b) => a - b)).toEqual([3, 11]);
  });

  it('keeps counts of ranges whose events were purged in earlier runs', () => {
    expect(mergeRuns([range(11, 11)], [{ first_seq: 1, last_seq: 10, last_hash: 'h10', event_count: 10 }]).write).toEqual([
      { first_seq: 1, last_seq: 11, last_hash: 'h11', event_count: 11 },
    ]);
  });

  it('asks for the ranges ending right before and starting right after each run', () => {
    expect(neighbourKeys([range(3, 4), range(9, 9)])).toEqual({ endingAt: [2, 8], startingAt: [5, 10] });
  });
});
