import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ROOT } from '../helpers/process.js';

describe('OpenAPI document', () => {
  let ctx: TestApp;
  beforeAll(async () => {
    ctx = await startTestApp('pglite');
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('matches the committed openapi.json (run `npm run openapi` after changing a route)', async () => {
    const committed: unknown = JSON.parse(readFileSync(path.join(ROOT, 'openapi.json'), 'utf8'));
    const served = await ctx.call('GET', '/openapi.json', { key: null });
    expect(served.status).toBe(200);
    expect(served.body).toEqual(committed);
  });

  it('documents the WorkOS routes and serves /docs without a key', async () => {
    const served = await ctx.call<{ paths: Record<string, unknown> }>('GET', '/openapi.json', { key: null });
    for (const route of ['/organizations', '/audit_logs/events', '/audit_logs/events/batch', '/audit_logs/actions/{action}/schemas', '/organizations/{id}/audit_logs_retention']) {
      expect(Object.keys(served.body.paths)).toContain(route);
    }
    const docs = await ctx.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
  });

  it('serves health, readiness and Prometheus metrics without a key', async () => {
    expect((await ctx.call('GET', '/healthz', { key: null })).body).toEqual({ status: 'ok' });
    expect((await ctx.call('GET', '/readyz', { key: null })).body).toEqual({ status: 'ready', database: 'pglite' });
    const metrics = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('verity_http_request_duration_seconds');
  });
});
