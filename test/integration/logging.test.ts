import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ADMIN_KEY } from '../helpers/app.js';
import { startServerProcess } from '../helpers/process.js';

it('writes only JSON lines to stdout (the banner goes to stderr); LOG_LEVEL=debug logs each request without its query string', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'verity-logging-'));
  try {
    const server = await startServerProcess({ VERITY_DATA_DIR: dir, VERITY_BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'debug' });
    const headers = { authorization: `Bearer ${ADMIN_KEY}` };
    expect((await fetch(`${server.url}/organizations?limit=1`, { headers })).status).toBe(200);
    await fetch(`${server.url}/audit_logs/exports/audit_log_export_x/download?expires=1&signature=SIGNATURE_IN_QUERY`);
    expect(await server.stop()).toBe(0);

    const lines = server.stdout().split('\n').filter((line) => line !== '');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const access = records.filter((record) => record.msg === 'request completed');
    expect(access).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ method: 'GET', path: '/organizations', route: '/organizations', status: 200, reqId: expect.any(String) as unknown }),
        expect.objectContaining({ path: '/audit_logs/exports/audit_log_export_x/download' }),
      ]),
    );
    expect(server.stdout()).not.toContain('SIGNATURE_IN_QUERY');
    expect(server.stdout()).not.toContain(ADMIN_KEY);
    expect(records.at(-1)).toMatchObject({ msg: expect.stringContaining('shut down cleanly') as unknown });
    expect(server.stderr()).toContain('Verity is running');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // A server process starting on a fresh embedded database: 23 s of the default 30 in CI on a slow day.
}, 120_000);
