import { expect, it } from 'vitest';
import { FAILED_AUTH_PER_MINUTE } from '../../src/http/plugins/credential-guard.js';
import { describeEachBackend } from '../helpers/app.js';

// Its own app: the address (the test client's) stays blocked for new keys for the rest of the minute.
describeEachBackend('failed API-key attempts per address', (ctx) => {
  it('answers 429 once an address has sent too many invalid keys, before looking them up; a known key still works', async () => {
    const reader = await ctx().createKey(['events:read']);
    expect((await ctx().call('GET', '/organizations', { key: reader })).status).toBe(200);
    for (let i = 0; i < FAILED_AUTH_PER_MINUTE; i++) {
      expect((await ctx().call('GET', '/organizations', { key: `sk_guess_${i}` })).status).toBe(401);
    }
    const refused = await ctx().call('GET', '/organizations', { key: 'sk_guess_one_more' });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ message: 'Too many requests with invalid credentials from this address. Try again later.', code: 'rate_limit_exceeded' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Verified a moment ago (cached): not refused for its neighbours' failures.
    expect((await ctx().call('GET', '/organizations', { key: reader })).status).toBe(200);
  });
});
