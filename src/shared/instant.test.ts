import { describe, expect, it } from 'vitest';
import { rangeBound } from './instant.js';

describe('range bounds', () => {
  it('keep millisecond and coarser times as they are', () => {
    expect(rangeBound('2026-11-26T12:01:00Z')?.toISOString()).toBe('2026-11-26T12:01:00.000Z');
    expect(rangeBound('2026-11-26T12:01:00.123Z')?.toISOString()).toBe('2026-11-26T12:01:00.123Z');
    expect(rangeBound('2026-11-26T12:01:00.123000+02:00')?.toISOString()).toBe('2026-11-26T10:01:00.123Z');
  });

  it('round a time below the millisecond up, so an event stored at the millisecond before is not in range', () => {
    expect(rangeBound('2026-11-26T12:01:00.000001Z')?.toISOString()).toBe('2026-11-26T12:01:00.001Z');
    expect(rangeBound('2026-11-26T12:01:00.1239Z')?.toISOString()).toBe('2026-11-26T12:01:00.124Z');
    expect(rangeBound('2026-11-26 12:01:00.000001Z')?.toISOString()).toBe('2026-11-26T12:01:00.001Z');
    expect(rangeBound('2026-11-26t12:01:00.000001z')?.toISOString()).toBe('2026-11-26T12:01:00.001Z');
  });

  it('refuse a bound that rounds past the year 9999', () => {
    expect(rangeBound('9999-12-31T23:59:59.999Z')?.toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expect(rangeBound('9999-12-31T23:59:59.9995Z')).toBeUndefined();
  });

  it('refuse what is not a date-time', () => {
    expect(rangeBound('yesterday')).toBeUndefined();
    expect(rangeBound('1700000000')).toBeUndefined();
    expect(rangeBound('2026-13-01T00:00:00Z')).toBeUndefined();
  });
});
