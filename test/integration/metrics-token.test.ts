import { expect, it } from 'vitest';
import { ADMIN_KEY, describeEachBackend } from '../helpers/app.js';

const TOKEN = 'prometheus-scrape-token-0123456789';

describeEachBackend(
  'GET /metrics with VERITY_METRICS_TOKEN',
  (ctx) => {
    const scrape = (authorization?: string) =>
      ctx().app.inject({ method: 'GET', url: '/metrics', headers: authorization === undefined ? {} : { authorization } });

    it('answers only a scrape that carries the token; health checks stay open', async () => {
      for (const authorization of [undefined, 'Bearer wrong-token', `Bearer ${ADMIN_KEY}`, TOKEN, `Bearer ${TOKEN}x`]) {
        const refused = await scrape(authorization);
        expect(refused.statusCode, authorization).toBe(401);
        expect(refused.json()).toMatchObject({ code: 'unauthorized' });
        expect(refused.body).not.toContain(TOKEN);
      }
      const allowed = await scrape(`Bearer ${TOKEN}`);
      expect(allowed.statusCode).toBe(200);
      expect((await scrape(`bearer  ${TOKEN} `)).statusCode).toBe(200);
      expect(allowed.body).toContain('verity_events_appended_total');
      expect((await ctx().app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await ctx().app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    });
  },
  { VERITY_METRICS_TOKEN: TOKEN },
);
