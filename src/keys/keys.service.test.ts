import { afterEach, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.js';
import { KeysService } from './keys.service.js';

describe('API key last use', () => {
  let testDb: TestDb | undefined;
  afterEach(async () => {
    await testDb?.drop();
    testDb = undefined;
  });

  it('records a key as used soon after a request authenticates with it, and only that key', async () => {
    testDb = await createTestDb('pglite');
    const keys = new KeysService(testDb.db, 50);
    const key = await keys.create({ name: 'ci', scopes: ['events:write'] });
    const unused = await keys.create({ name: 'spare', scopes: ['events:write'] });
    expect((await keys.list()).find((k) => k.id === key.id)?.last_used_at).toBeNull();
    for (let i = 0; i < 3; i++) expect((await keys.authenticate(key.secret))?.id).toBe(key.id);
    await expect.poll(async () => (await keys.list()).find((k) => k.id === key.id)?.last_used_at, { timeout: 5_000 }).not.toBeNull();
    expect((await keys.list()).find((k) => k.id === unused.id)?.last_used_at).toBeNull();
    keys.stop();
  });
});
