import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config.js';
import { checkSecretKey } from '../../src/config/secret-key.js';
import { SecretBox } from '../../src/shared/secret-box.js';
import { ADMIN_KEY } from '../helpers/app.js';
import { createTestDb, postgresAvailability } from '../helpers/db.js';
import { startServerProcess } from '../helpers/process.js';

for (const kind of ['pglite', 'postgres'] as const) {
  const { available, reason } = kind === 'postgres' ? postgresAvailability() : { available: true, reason: null };
  describe.skipIf(!available)(`master key check [${kind}]${available ? '' : ` — skipped: ${reason ?? ''}`}`, () => {
    it('accepts the key the database first saw, again and again, and refuses another one', async () => {
      const testDb = await createTestDb(kind);
      try {
        const key = randomBytes(32);
        await checkSecretKey(testDb.db, key);
        await checkSecretKey(testDb.db, Buffer.from(key));
        const other = checkSecretKey(testDb.db, randomBytes(32));
        await expect(other).rejects.toBeInstanceOf(ConfigError);
        await expect(other).rejects.toThrow(/Every process sharing the database must use the same key/);
        // Concurrent first starts agree on one key: the second to arrive is judged against the first's.
        const fresh = await createTestDb(kind);
        try {
          const [a, b] = [randomBytes(32), randomBytes(32)];
          const results = await Promise.allSettled([checkSecretKey(fresh.db, a), checkSecretKey(fresh.db, b)]);
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        } finally {
          await fresh.drop();
        }
      } finally {
        await testDb.drop();
      }
    });

    it('on a database whose stream secrets predate the check, accepts only the key that sealed them', async () => {
      const testDb = await createTestDb(kind);
      try {
        const original = randomBytes(32);
        await testDb.db.query(`insert into organizations (id, name, retention_period_in_days) values ('org_upgrade', 'Upgrade Co', 365)`);
        await testDb.db.query(
          `insert into log_streams (id, organization_id, name, type, config, secrets, secret_fields, state, cursor_seq)
           values ('als_upgrade', 'org_upgrade', 'SIEM', 'Splunk', '{}'::jsonb, $1, '{hec_token}', 'active', 0)`,
          [new SecretBox(original).seal(JSON.stringify({ hec_token: 'x' }), 'als_upgrade')],
        );
        // The misconfigured process starting first must not become the reference.
        await expect(checkSecretKey(testDb.db, randomBytes(32))).rejects.toBeInstanceOf(ConfigError);
        await checkSecretKey(testDb.db, original);
        await expect(checkSecretKey(testDb.db, randomBytes(32))).rejects.toBeInstanceOf(ConfigError);
      } finally {
        await testDb.drop();
      }
    });
  });
}

describe.skipIf(!postgresAvailability().available)('a server process with another master key [postgres]', () => {
  it('refuses to start, says why, and leaves no generated key file behind', async () => {
    const testDb = await createTestDb('postgres');
    const dir = mkdtempSync(path.join(tmpdir(), 'verity-keycheck-'));
    try {
      const env = { DATABASE_URL: testDb.url ?? '', VERITY_BOOTSTRAP_API_KEY: ADMIN_KEY };
      const first = await startServerProcess({ ...env, VERITY_SECRET_KEY: 'b'.repeat(64) });
      await first.stop();
      // No VERITY_SECRET_KEY: it generates one into its data directory, which the database refuses.
      const second = await startServerProcess({ ...env, VERITY_DATA_DIR: dir }).then(
        () => 'started',
        (error: unknown) => String(error),
      );
      expect(second).toContain('server exited early');
      expect(second).toContain('Invalid configuration');
      expect(second).toContain('The master key for secrets at rest');
      expect(existsSync(path.join(dir, 'secret.key'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await testDb.drop();
    }
  }, 180_000);
});
