import { describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH } from '../ingest/hash.js';
import { HashPool, InlineHashChecker, type HashedRow } from './hash-pool.js';

function rows(count: number): HashedRow[] {
  const out: HashedRow[] = [];
  let last = GENESIS_HASH;
  for (let i = 0; i < count; i++) {
    const event = { id: `event_${i}`, action: 'user.signed_in', metadata: { n: i, ratio: i / 3 }, targets: [{ id: `t${i}`, type: 'team' }] };
    const hash = chainHash(last, event as never);
    // jsonb-like text: spaces after separators, no newline.
    out.push({ prev_hash: last, hash, data: JSON.stringify(event, null, 1).replace(/\n\s*/g, ' ') });
    last = hash;
  }
  return out;
}

function tamper(list: HashedRow[], index: number, data: (text: string) => string): HashedRow[] {
  return list.map((row, i) => (i === index ? { ...row, data: data(row.data) } : row));
}

describe('hash checkers', () => {
  it('worker threads start here and find the first bad row across their parts', async () => {
    const pool = await HashPool.start(2);
    expect(pool, 'worker threads should start (under tsx in tests)').toBeDefined();
    if (pool === undefined) return;
    try {
      const good = rows(101);
      expect(await pool.check(good)).toBe(-1);
      const twice = tamper(tamper(good, 77, (text) => text.replace('user.signed_in', 'user.signed_up')), 90, () => '{not json');
      expect(await pool.check(twice)).toBe(77);
      expect(await pool.check(tamper(good, 3, () => '{not json'))).toBe(3);
    } finally {
      await pool.close();
    }
  });

  it('the inline checker answers the same', async () => {
    const checker = new InlineHashChecker();
    const good = rows(600);
    expect(await checker.check(good)).toBe(-1);
    expect(await checker.check(tamper(good, 599, (text) => text.replace('event_599', 'event_598')))).toBe(599);
  });
});
