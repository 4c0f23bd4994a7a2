import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/db/db.js';
import { openPglite } from '../../src/db/pglite.js';
import { GENESIS_HASH } from '../../src/ingest/hash.js';
import { ADMIN_KEY } from '../helpers/app.js';
import { runCli } from '../helpers/process.js';
import { startListeningTestApp, type ListeningTestApp } from '../helpers/server.js';

/** An organization created on 2026-10-15 (17 days of October) at 1.5 M events stored, with one stream from the 20th. */
async function seedOctober(db: Queryable, id: string, name: string): Promise<void> {
  await db.query(`insert into organizations (id, name, retention_period_in_days, created_at) values ($1, $2, 365, '2026-10-15T00:00:00Z')`, [id, name]);
  await db.query('insert into org_log_heads (organization_id, seq, hash) values ($1, 0, $2)', [id, GENESIS_HASH]);
  await db.query(
    `insert into usage_daily (organization_id, day, events_stored, events_ingested, measured_at)
     select $1, d::date, 1500000, 10, now() from generate_series('2026-10-15'::date, '2026-10-31'::date, interval '1 day') d`,
    [id],
  );
  await db.query(
    `insert into log_streams (id, organization_id, type, config, state, cursor_seq, created_at)
     values ($2, $1, 'Datadog', '{}'::jsonb, 'active', 0, '2026-10-20T09:00:00Z')`,
    [id, `als_${id.slice(4)}`],
  );
}

// 12 stream-days of 31: 0.3871 connections, 12 × 125 / 31 = 48.39; 1.5 M average → 2 units → 198.00.
const CSV_LINE = (id: string, name: string): string => `2026-10,${id},${name},1500000,1500000.00,170,0.3871,2,48.39,198.00,246.39,USD`;

describe('verity usage (CLI)', () => {
  it('prints the bill from the database, as CSV', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'verity-cli-usage-'));
    const env = { VERITY_DATA_DIR: dir };
    const migrated = await runCli(['migrate'], env);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/^Applied \d+ migrations \(0001_init, .*\); the database is up to date\.\n$/);
    expect((await runCli(['migrate'], env)).stdout).toBe('Nothing to apply: the database is up to date.\n');
    const db = await openPglite({ dataDir: `${dir}/pglite` });
    try {
      await seedOctober(db, 'org_01CLIUSAGE0000000000000000', 'Local Co');
    } finally {
      await db.close();
    }
    const csv = await runCli(['usage', '--month', '2026-10', '--csv'], env);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.split('\r\n')).toEqual([
      'month,organization_id,name,events_stored,events_stored_avg,events_ingested,siem_connections,event_units,siem_cost,retention_cost,total_cost,currency',
      CSV_LINE('org_01CLIUSAGE0000000000000000', 'Local Co'),
      '2026-10,TOTAL,,1500000,1500000.00,170,0.3871,2,48.39,198.00,246.39,USD',
      '',
    ]);

    const bad = await runCli(['usage', '--month', '2026-13'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--month must look like 2026-11');
  }, 180_000);

  describe('through a running server (--url)', () => {
    let server: ListeningTestApp;
    beforeAll(async () => {
      server = await startListeningTestApp('pglite');
      await seedOctober(server.testDb.db, 'org_01CLIREMOTE000000000000000', 'Remote Co');
    });
    afterAll(async () => {
      await server.close();
    });

    it('prints the same bill as a table', async () => {
      const table = await runCli(['usage', '--month', '2026-10', '--organization', 'org_01CLIREMOTE000000000000000', '--url', server.baseUrl, '--api-key', ADMIN_KEY], {});
      expect(table.code, table.stderr).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toContain('Usage for 2026-10 (USD): 125.00 per SIEM connection-month, 99.00 per million events stored');
      expect(lines[3]).toMatch(/^org_01CLIREMOTE000000000000000\s+Remote Co\s+1500000\s+1500000\.00\s+170\s+0\.3871\s+2\s+48\.39\s+198\.00\s+246\.39$/);
      expect(lines[4]).toMatch(/^TOTAL\s+1500000\s+1500000\.00\s+170\s+0\.3871\s+2\s+48\.39\s+198\.00\s+246\.39$/);

      const csv = await runCli(['usage', '--month', '2026-10', '--organization', 'org_01CLIREMOTE000000000000000', '--csv', '--url', server.baseUrl], { VERITY_API_KEY: ADMIN_KEY });
      expect(csv.stdout.split('\r\n')[1]).toBe(CSV_LINE('org_01CLIREMOTE000000000000000', 'Remote Co'));

      const denied = await runCli(['usage', '--url', server.baseUrl, '--api-key', 'sk_not_a_real_key_0123456789'], {});
      expect(denied.code).toBe(1);
      expect(denied.stderr).toContain('401');
    }, 180_000);
  });
});
