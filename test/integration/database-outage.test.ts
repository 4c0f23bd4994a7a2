import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, startTestApp, type TestApp } from '../helpers/app.js';
import { postgresAvailability } from '../helpers/db.js';
import { adminUrl } from '../helpers/postgres-url.js';

const { available, reason } = postgresAvailability();

// PostgreSQL only: PGlite is in the process and cannot go away on its own.
describe.skipIf(!available)(`when the database goes away [postgres]${available ? '' : ` — skipped: ${reason ?? ''}`}`, () => {
  let ctx: TestApp;
  beforeAll(async () => {
    ctx = await startTestApp('postgres');
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('answers 503 unavailable with Retry-After, not a 500, and readiness fails while liveness holds', async () => {
    const org = await ctx.createOrg();
    expect((await ctx.call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent() } })).status).toBe(200);

    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    try {
      await admin.query(`drop database ${new URL(ctx.testDb.url ?? '').pathname.slice(1)} with (force)`);
    } finally {
      await admin.end();
    }

    for (const [method, url, body] of [
      ['GET', '/organizations', undefined],
      ['GET', `/audit_logs/events?organization_id=${org}`, undefined],
      ['POST', '/audit_logs/events', { organization_id: org, event: makeEvent() }],
    ] as const) {
      const response = await ctx.call(method, url, body === undefined ? {} : { body });
      expect(response.status, `${method} ${url}`).toBe(503);
      expect(response.body).toEqual({ message: 'The database is not reachable. Retry shortly.', code: 'unavailable' });
      expect(response.headers['retry-after']).toBe('5');
    }
    expect((await ctx.call('GET', '/readyz', { key: null })).status).toBe(503);
    expect((await ctx.call('GET', '/healthz', { key: null })).status).toBe(200);
  });
});
