import { describe, expect, it } from 'vitest';
import { lonelySurrogatePaths } from './unicode.js';

describe('lonelySurrogatePaths', () => {
  it('finds lone surrogates in values and keys, at JSON Pointer paths', () => {
    const value = JSON.parse('{"a":"ok \\ud83d\\ude00","b":["x","\\ud800"],"c":{"\\udc00":1,"d/e~f":"\\udbff"}}') as unknown;
    expect(lonelySurrogatePaths(value)).toEqual(['/b/1', '/c/\udc00', '/c/d~1e~0f']);
  });

  it('finds nothing in well-formed text, numbers, booleans and null', () => {
    expect(lonelySurrogatePaths({ emoji: '😀', n: 1, t: true, z: null, list: ['é', '中'] })).toEqual([]);
    expect(lonelySurrogatePaths('\ud800')).toEqual(['']);
  });
});
