import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPglite } from '../../src/db/pglite.js';
import { KeysService } from '../../src/keys/keys.service.js';
import { createTestDb, postgresAvailability } from '../helpers/db.js';
import { freePort } from '../../bench/lib/proc.js';
import { runCli } from '../helpers/process.js';

async function exercise(env: Record<string, string>, verify: (secret: string) => Promise<boolean>): Promise<void> {
  const created = await runCli(['keys', 'create', '--name', 'ingest-bot', '--scopes', 'events:write'], env);
  expect(created.code, created.stderr).toBe(0);
  const secret = /sk_[A-Za-z0-9_-]+/.exec(created.stdout)?.[0] ?? '';
  const id = /key_[0-9A-Z]+/.exec(created.stdout)?.[0] ?? '';
  expect(await verify(secret)).toBe(true);

  const listed = await runCli(['keys', 'list'], env);
  expect(listed.code, listed.stderr).toBe(0);
  expect(listed.stdout).toContain(id);
  expect(listed.stdout).toContain('events:write');
  expect(listed.stdout).not.toContain(secret);

  const revoked = await runCli(['keys', 'revoke', id], env);
  expect(revoked.code).toBe(0);
  expect(revoked.stdout).toBe(`Revoked ${id} (ingest-bot).\n`);
  expect(await verify(secret)).toBe(false);
  const again = await runCli(['keys', 'revoke', id], env);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(new RegExp(`^${id} \\(ingest-bot\\) was already revoked at \\S+; nothing changed\\.\n$`));

  const bad = await runCli(['keys', 'create', '--name', 'x', '--scopes', 'root'], env);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('unknown scope');
}

describe('verity keys (CLI)', () => {
  it('says which address it could not reach, and why, with --url', async () => {
    const port = await freePort(); // free a moment ago: nothing listens there
    const listed = await runCli(['keys', 'list', '--url', `http://127.0.0.1:${port}`, '--api-key', 'sk_not_checked'], {});
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain(`cannot reach the Verity server at http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('creates, lists and revokes keys on PGlite', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'verity-cli-'));
    // A directory without a database (the CLI run from the wrong folder) is refused and left as it was:
    // a key made there would be one the server never sees.
    for (const args of [['keys', 'list'], ['keys', 'create', '--name', 'lost', '--scopes', 'admin']]) {
      const refused = await runCli(args, { VERITY_DATA_DIR: dir });
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.stderr).toContain('No Verity database in');
      expect(readdirSync(dir)).toEqual([]);
    }
    expect((await runCli(['migrate'], { VERITY_DATA_DIR: dir })).code).toBe(0);
    await exercise({ VERITY_DATA_DIR: dir }, async (secret) => {
      const db = await openPglite({ dataDir: `${dir}/pglite` });
      try {
        return (await new KeysService(db).authenticate(secret)) !== null;
      } finally {
        await db.close();
      }
    });
    // Eight CLI processes each start and open the embedded database (about 30 s in all on a quiet machine);
    // in CI, with the rest of the suite beside them on a slow day, four took 79 s.
  }, 300_000);

  const { available, reason } = postgresAvailability();
  it.skipIf(!available)(`creates, lists and revokes keys on PostgreSQL${available ? '' : ` — skipped: ${reason ?? ''}`}`, async () => {
    const testDb = await createTestDb('postgres');
    try {
      await exercise({ DATABASE_URL: testDb.url ?? '' }, async (secret) => (await new KeysService(testDb.db).authenticate(secret)) !== null);
    } finally {
      await testDb.drop();
    }
  }, 60_000);
});
