import { expect, it } from 'vitest';
import { describeEachBackend } from '../helpers/app.js';

describeEachBackend(
  'rate limiting per API key',
  (ctx) => {
    it('answers 429 with Retry-After and the WorkOS body once a key exceeds its budget, without affecting other keys', async () => {
      const org = await ctx().createOrg();
      const key = await ctx().createKey(['events:read'], org);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1) statuses.push((await ctx().call('GET', `/organizations/${org}`, { key })).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      const limited = await ctx().call('GET', `/organizations/${org}`, { key });
      expect(limited.status).toBe(429);
      expect(limited.body).toEqual({ message: 'Too many requests.', code: 'rate_limit_exceeded' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.headers['x-request-id']).toBeDefined();
      const otherKey = await ctx().createKey(['events:read'], org);
      expect((await ctx().call('GET', `/organizations/${org}`, { key: otherKey })).status).toBe(200);
      expect((await ctx().call('GET', '/healthz', { key: null })).status).toBe(200);
    });
  },
  { VERITY_RATE_LIMIT_PER_MINUTE: '5' },
);
