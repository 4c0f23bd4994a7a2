import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/app-error.js';
import { AddressLimiter } from './address-limiter.js';

describe('AddressLimiter', () => {
  it('allows the limit per address per minute, then answers 429 with the seconds left', () => {
    let now = 1_000_000;
    const limiter = new AddressLimiter(3, 'Too many sign-in attempts. Try again later.', () => now);
    for (let i = 0; i < 3; i += 1) limiter.take('203.0.113.1');
    let refused: unknown;
    try {
      limiter.take('203.0.113.1');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('rate_limit_exceeded');
    expect((refused as AppError).retryAfter).toBe(60);
    limiter.take('203.0.113.2');
    now += 45_000;
    expect(() => limiter.take('203.0.113.1')).toThrow(AppError);
    now += 15_000;
    expect(() => limiter.take('203.0.113.1')).not.toThrow();
  });
});

describe('AddressLimiter.note and check', () => {
  it('counts without refusing, then refuses once the limit is used up, without counting', () => {
    let now = 0;
    const limiter = new AddressLimiter(2, 'Too many failed authentication attempts.', () => now);
    for (let i = 0; i < 2; i += 1) {
      expect(() => limiter.check('198.51.100.9')).not.toThrow();
      limiter.note('198.51.100.9');
    }
    expect(() => limiter.check('198.51.100.9')).toThrow('Too many failed authentication attempts.');
    expect(() => limiter.check('198.51.100.10')).not.toThrow();
    now += 60_000;
    expect(() => limiter.check('198.51.100.9')).not.toThrow();
  });
});
