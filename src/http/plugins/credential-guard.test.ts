import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors/app-error.js';
import { AddressLimiter } from '../../shared/address-limiter.js';
import { CredentialGuard, limiterAddress } from './credential-guard.js';

describe('CredentialGuard', () => {
  const valid = new Map([['sk_good', { id: 'key_1' }]]);
  const lookup = (credential: string) => async () => valid.get(credential) ?? null;

  it('refuses unknown credentials past the limit, but not one the address used successfully an hour ago or less', async () => {
    let now = 0;
    const guard = new CredentialGuard(new AddressLimiter(3, 'too many', () => now), () => now);
    expect(await guard.resolve('203.0.113.5', 'sk_good', lookup('sk_good'))).toEqual({ id: 'key_1' });
    for (let i = 0; i < 3; i++) expect(await guard.resolve('203.0.113.5', `sk_bad_${i}`, lookup(`sk_bad_${i}`))).toBeUndefined();
    await expect(guard.resolve('203.0.113.5', 'sk_bad_x', lookup('sk_bad_x'))).rejects.toBeInstanceOf(AppError);
    // Still within the minute, long after any 5 s cache: the known credential is looked up and works.
    now = 50_000;
    expect(await guard.resolve('203.0.113.5', 'sk_good', lookup('sk_good'))).toEqual({ id: 'key_1' });
    // Another address is not affected.
    expect(await guard.resolve('203.0.113.6', 'sk_bad_y', lookup('sk_bad_y'))).toBeUndefined();
  });

  it('forgets a credential that stopped working (revoked): it counts and is refused like any other', async () => {
    const guard = new CredentialGuard(new AddressLimiter(1, 'too many'));
    const keys = new Map([['sk_soon_revoked', { id: 'key_2' }]]);
    const find = async () => keys.get('sk_soon_revoked') ?? null;
    expect(await guard.resolve('198.51.100.1', 'sk_soon_revoked', find)).toBeDefined();
    keys.clear();
    expect(await guard.resolve('198.51.100.1', 'sk_soon_revoked', find)).toBeUndefined();
    await expect(guard.resolve('198.51.100.1', 'sk_soon_revoked', find)).rejects.toMatchObject({ code: 'rate_limit_exceeded' });
  });
});

describe('limiterAddress', () => {
  it('counts IPv6 clients by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(limiterAddress('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(limiterAddress('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(limiterAddress('2001:db8::5')).toBe('2001:db8:0:0::/64');
    expect(limiterAddress('::1')).toBe('0:0:0:0::/64');
    expect(limiterAddress('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(limiterAddress('192.0.2.7')).toBe('192.0.2.7');
  });
});
