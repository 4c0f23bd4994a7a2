import { describe, expect, it } from 'vitest';
import { findUnstorable, mayHoldUnstorable } from './unicode.js';

describe('findUnstorable', () => {
  it('finds a lone surrogate in a value or a key, at its JSON Pointer path', () => {
    expect(findUnstorable(JSON.parse('{"a":"ok \\ud83d\\ude00","b":["x","\\ud800"]}'))).toEqual({ path: '/b/1', problem: 'lone_surrogate' });
    expect(findUnstorable(JSON.parse('{"c":{"\\udc00":1}}'))).toEqual({ path: '/c/\udc00', problem: 'lone_surrogate' });
    expect(findUnstorable(JSON.parse('{"c":{"d/e~f":"\\udbff"}}'))).toEqual({ path: '/c/d~1e~0f', problem: 'lone_surrogate' });
  });

  it('finds a NUL character in a value or a key', () => {
    expect(findUnstorable(JSON.parse('{"actor":{"name":"Bob\\u0000"}}'))).toEqual({ path: '/actor/name', problem: 'nul' });
    expect(findUnstorable(JSON.parse('{"m":{"k\\u0000":"v"}}'))).toEqual({ path: '/m/k\u0000', problem: 'nul' });
  });

  it('finds numbers too large for a double', () => {
    expect(findUnstorable(JSON.parse('{"metadata":{"n":1e400}}'))).toEqual({ path: '/metadata/n', problem: 'non_finite' });
    expect(findUnstorable(JSON.parse('[-1e400]'))).toEqual({ path: '/0', problem: 'non_finite' });
  });

  it('walks nesting deeper than the call stack', () => {
    const depth = 200_000;
    const deep = JSON.parse(`${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}`) as unknown;
    expect(findUnstorable(deep)?.problem).toBe('nul');
  });

  it('finds nothing in storable documents', () => {
    expect(findUnstorable({ emoji: '😀', n: 1e308, tiny: 1e-400, t: true, z: null, list: ['é', '中', '\u0001'] })).toBeUndefined();
    expect(findUnstorable('\ud800')).toEqual({ path: '', problem: 'lone_surrogate' });
  });
});

describe('mayHoldUnstorable', () => {
  it('is true for every text findUnstorable could fault, false for ordinary JSON', () => {
    const overflowing = ['1e400', '1E+309', '10e308', '1e0309', `${'9'.repeat(309)}`, `1${'0'.repeat(299)}e10`, `${'9'.repeat(250)}e99`, `1${'0'.repeat(300)}.5e9`];
    for (const text of overflowing) {
      expect(Number.isFinite(Number(text)), text).toBe(false);
      expect(mayHoldUnstorable(text), text).toBe(true);
    }
    for (const text of ['"\\ud800"', '"\\u0000"']) expect(mayHoldUnstorable(text)).toBe(true);
    expect(mayHoldUnstorable('{"a":"b","n":12.5e9,"big":12345678901234567890,"m":[1,2,3]}')).toBe(false);
  });
});
