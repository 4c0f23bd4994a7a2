import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/app-error.js';
import { LoginLimiter } from './login-limiter.js';
import { hashPassword, verifyPassword } from './password.js';

describe('password hashing', () => {
  it('verifies the right password only, with a fresh salt per hash', async () => {
    const first = await hashPassword('correct horse battery staple');
    const second = await hashPassword('correct horse battery staple');
    expect(first).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(first).not.toBe(second);
    expect(await verifyPassword('correct horse battery staple', first)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', first)).toBe(false);
    expect(await verifyPassword('', first)).toBe(false);
  });

  it('treats equivalent Unicode spellings as one password', async () => {
    const stored = await hashPassword('caf\u00e9 au lait, s\u2019il vous pla\u00eet');
    expect(await verifyPassword('cafe\u0301 au lait, s\u2019il vous pla\u00eet', stored)).toBe(true);
  });

  it('never matches a malformed stored hash', async () => {
    for (const stored of ['', 'plain', 'scrypt$1$2$3', 'bcrypt$16384$8$1$c2FsdA==$aGFzaA==', 'scrypt$x$8$1$c2FsdA==$aGFzaA==', 'scrypt$16384$8$1$c2FsdA==$']) {
      expect(await verifyPassword('anything', stored)).toBe(false);
    }
  });
});

describe('LoginLimiter', () => {
  it('allows the limit per address per minute, then answers 429 with the seconds left', () => {
    let now = 1_000_000;
    const limiter = new LoginLimiter(3, () => now);
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
