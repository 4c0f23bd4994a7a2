import { describe, expect, it } from 'vitest';
import { cursorOf, pageParams, toList } from './pagination.js';

const rows = ['e', 'd', 'c'];
const id = (row: string): string => row;

describe('pagination', () => {
  it('defaults to 10 items newest first, treating "normal" as the default order', () => {
    expect(pageParams({})).toEqual({ limit: 10, order: 'desc', before: undefined, after: undefined });
    expect(pageParams({ order: 'normal' }).order).toBe('desc');
  });

  it('reads backwards for before, forwards otherwise', () => {
    expect(cursorOf(pageParams({ after: 'x' }))).toEqual({ cursor: 'x', op: '<' });
    expect(cursorOf(pageParams({ before: 'x' }))).toEqual({ cursor: 'x', op: '>' });
    expect(cursorOf(pageParams({ order: 'asc', after: 'x' }))).toEqual({ cursor: 'x', op: '>' });
  });

  it('builds list_metadata from limit + 1 rows', () => {
    expect(toList(rows, pageParams({ limit: 2 }), id, id)).toEqual({ object: 'list', data: ['e', 'd'], list_metadata: { before: null, after: 'd' } });
    expect(toList(rows.slice(0, 2), pageParams({ limit: 2, after: 'f' }), id, id).list_metadata).toEqual({ before: 'e', after: null });
    // Paging back: rows arrive oldest-first past the cursor and are flipped into list order.
    expect(toList(['a', 'b', 'c'], pageParams({ limit: 2, before: 'z' }), id, id)).toEqual({ object: 'list', data: ['b', 'a'], list_metadata: { before: 'b', after: 'a' } });
  });

  it('refuses before and after together', () => {
    expect(() => pageParams({ before: 'a', after: 'b' })).toThrow(/either before or after/);
  });
});
