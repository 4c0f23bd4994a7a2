import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../../src/db/dir-lock.js';
import { ADMIN_KEY } from '../helpers/app.js';
import { ROOT, runCli, startServerProcess } from '../helpers/process.js';

const tempDir = (): string => mkdtempSync(path.join(os.tmpdir(), 'verity-lock-'));

describe('PGlite data directory lock', () => {
  it('refuses a second opener in the same process and frees the lock on release', async () => {
    const dir = tempDir();
    const lock = await lockDataDir(dir, { pid: process.pid, role: 'test' });
    await expect(lockDataDir(dir, { pid: process.pid, role: 'second' })).rejects.toBeInstanceOf(DataDirLockedError);
    await lock.release();
    const again = await lockDataDir(dir, { pid: process.pid, role: 'third' });
    await again.release();
  });

  it('is not left stuck by a process killed with SIGKILL', async () => {
    const dir = tempDir();
    const script = `import { lockDataDir } from './src/db/dir-lock.ts';
      await lockDataDir(${JSON.stringify(dir)}, { pid: process.pid, role: 'victim' });
      console.log('locked'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT });
    await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve()));
    await expect(lockDataDir(dir, { pid: process.pid, role: 'test' })).rejects.toThrow(/in use by Verity process \d+ \(victim\)/);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const lock = await lockDataDir(dir, { pid: process.pid, role: 'test' });
    await lock.release();
  });

  it('makes the CLI refuse while the server runs, saying what to do, and work through --url', async () => {
    const dir = tempDir();
    const server = await startServerProcess({ VERITY_DATA_DIR: dir, VERITY_BOOTSTRAP_API_KEY: ADMIN_KEY });
    try {
      const refused = await runCli(['keys', 'list'], { VERITY_DATA_DIR: dir });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('is in use by Verity process');
      expect(refused.stderr).toContain('--url');

      const second = await runCli(['serve'], { VERITY_DATA_DIR: dir, PORT: '0' });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain('is in use by Verity process');

      const created = await runCli(['keys', 'create', '--name', 'ci', '--url', server.url, '--api-key', ADMIN_KEY], {});
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(/sk_[A-Za-z0-9_-]{20,}/);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    // With the server gone, the CLI opens the directory itself and sees the key made through the API.
    const listed = await runCli(['keys', 'list'], { VERITY_DATA_DIR: dir });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('ci');
    // A server and four CLI processes, each starting on the embedded database: 60 s was not enough in CI
    // on a slow day with the suite's other worker beside it.
  }, 180_000);
});
