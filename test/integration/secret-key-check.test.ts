import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkSecretKey, SecretKeyMismatchError } from '../../src/config/secret-key.js';
import { createTestDb, postgresAvailability } from '../helpers/db.js';

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
        await expect(other).rejects.toBeInstanceOf(SecretKeyMismatchError);
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
  });
}
