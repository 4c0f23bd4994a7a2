import { describe, expect, it } from 'vitest';
import { cursorOf, idCursorOf, numberCursorOf, pageParams, toList } from './pagination.js';

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

  it('takes a number cursor as digits only, within its length, and an id cursor only in its kind\'s shape', () => {
    expect(numberCursorOf(pageParams({ after: '42' }), 'a version')).toEqual({ cursor: 42, op: '<' });
    expect(numberCursorOf(pageParams({}), 'a version')).toEqual({ cursor: undefined, op: '<' });
    for (const bad of ['1e300', '0x10', '', '1.5', '-3']) expect(() => numberCursorOf(pageParams({ after: bad }), 'a version'), bad).toThrow(/Unknown cursor/);
    expect(() => numberCursorOf(pageParams({ before: '1234567890' }), 'a version', 9)).toThrow(/before takes a version/);
    expect(idCursorOf(pageParams({ after: 'org_01M8E5JF5XEC8J7HDY32J4RPA0' }), 'organization', 'an organization').cursor).toBe('org_01M8E5JF5XEC8J7HDY32J4RPA0');
    expect(() => idCursorOf(pageParams({ after: 'org_bogus' }), 'organization', 'an organization')).toThrow(/after takes an organization id/);
    expect(() => idCursorOf(pageParams({ after: 'als_01M8E5JF5XEC8J7HDY32J4RPA0' }), 'organization', 'an organization')).toThrow(/Unknown cursor/);
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
