import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeEachBackend, makeEvent } from '../helpers/app.js';
import { runCli } from '../helpers/process.js';

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const INVALID_RANGE = { message: 'Invalid date range', code: 'invalid_audit_log_export_range_date' };
const NOT_REAL_DATE_TIMES = ['2026-02-30T00:00:00Z', '2026-11-01 00:00 PST', '2026-11-01T00:00:00', '2026-11-01', '2026-11-01T25:00:00Z'];

describeEachBackend(
  'export ranges and expiry',
  (ctx) => {
    it('refuses range bounds that are not real date-times with a time zone, instead of shifting them', async () => {
      const org = await ctx().createOrg('Strict Dates');
      for (const bad of NOT_REAL_DATE_TIMES) {
        for (const body of [
          { organization_id: org, range_start: bad, range_end: '2026-12-01T00:00:00Z' },
          { organization_id: org, range_start: '2026-01-01T00:00:00Z', range_end: bad },
        ]) {
          const refused = await ctx().call('POST', '/audit_logs/exports', { body });
          expect(refused.status, `${bad}: ${JSON.stringify(refused.body)}`).toBe(400);
          expect(refused.body).toEqual(INVALID_RANGE);
        }
      }
      // What search accepts is still accepted, offsets included.
      const ok = await ctx().call('POST', '/audit_logs/exports', {
        body: { organization_id: org, range_start: '2026-10-31T23:00:00-01:00', range_end: '2026-12-01T00:00:00.5+01:00' },
      });
      expect(ok.status, JSON.stringify(ok.body)).toBe(201);
      expect(ok.body).toMatchObject({ filters: { range_start: '2026-11-01T00:00:00.000Z', range_end: '2026-11-30T23:00:00.500Z' } });
    });

    it('treats an expired export as gone at once: GET and its download answer 404 before the cleanup runs', async () => {
      const org = await ctx().createOrg('Expiring');
      await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent() } });
      const created = await ctx().call<{ id: string }>('POST', '/audit_logs/exports', {
        body: { organization_id: org, range_start: '2026-10-01T00:00:00Z', range_end: '2026-12-01T00:00:00Z' },
      });
      await ctx().services.jobs.runDue();
      const ready = await ctx().call<{ state: string; url: string }>('GET', `/audit_logs/exports/${created.body.id}`);
      expect(ready.body.state).toBe('ready');
      const link = new URL(ready.body.url);
      expect((await ctx().app.inject({ method: 'GET', url: `${link.pathname}${link.search}` })).statusCode).toBe(200);

      await ctx().testDb.db.query(`update exports set expires_at = now() - interval '1 second' where id = $1`, [created.body.id]);
      const gone = await ctx().call('GET', `/audit_logs/exports/${created.body.id}`);
      expect(gone.status).toBe(404);
      expect(gone.body).toEqual({ message: `Audit Log Export not found: '${created.body.id}'.` });
      const download = await ctx().app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
      expect(download.statusCode).toBe(404);
      expect(download.json()).toEqual({ message: `Audit Log Export not found: '${created.body.id}'.` });
      // The file is still there until the sweep: it is not served all the same.
      expect(existsSync(path.join(ctx().config.dataDir, 'exports', `${created.body.id}.csv`))).toBe(true);
    });
  },
  { VERITY_DATA_DIR: tempDir('verity-export-dates-') },
);

describe('verity export (CLI) range bounds', () => {
  it('refuses --from/--to values that are not real date-times', async () => {
    const dir = tempDir('verity-cli-export-dates-');
    const env = { VERITY_DATA_DIR: dir, LOG_LEVEL: 'warn' };
    const from = await runCli(['export', '--organization', 'org_x', '--from', '2026-02-30T00:00:00Z', '--to', '2026-12-01T00:00:00Z', '--out', path.join(dir, 'x.csv')], env);
    expect(from.code).toBe(1);
    expect(from.stderr).toContain('--from must match format "date-time"');
    expect(from.stderr).toContain('"2026-02-30T00:00:00Z"');
    const to = await runCli(['export', '--organization', 'org_x', '--from', '2026-11-01T00:00:00Z', '--to', '2026-12-01 00:00 PST', '--out', path.join(dir, 'x.csv')], env);
    expect(to.code).toBe(1);
    expect(to.stderr).toContain('--to must match format "date-time"');
  }, 60_000);
});
