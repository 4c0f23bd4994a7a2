import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { migrate, NewerSchemaError, unknownMigrations } from '../../src/db/migrate.js';
import { SchemaWatch } from '../../src/db/schema-watch.js';
import { createTestDb, postgresAvailability } from '../helpers/db.js';

const silent = pino({ level: 'silent' });

/** A database migrated by a version newer than this one: what a downgrade, or an old process in a rolling upgrade, meets. */
for (const kind of ['pglite', 'postgres'] as const) {
  const { available } = kind === 'postgres' ? postgresAvailability() : { available: true };
  describe.skipIf(!available)(`schema version guard [${kind}]`, () => {
    it('an older version refuses to start on a database a newer one migrated, naming the unknown migrations', async () => {
      const testDb = await createTestDb(kind);
      const db = testDb.db;
      const drop = (): Promise<void> => testDb.drop();
      try {
        expect(await migrate(db)).toEqual([]);
        expect(await unknownMigrations(db)).toEqual([]);
        await db.query("insert into schema_migrations (version) values ('9999_from_a_newer_verity')");
        const refused = await migrate(db).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(NewerSchemaError);
        expect((refused as Error).message).toMatch(/migrated by a newer version of Verity \(migrations unknown to this one: 9999_from_a_newer_verity\)/);
      } finally {
        await drop();
      }
    });

    it('a running server learns of a newer migration and is told to stop; a database it cannot reach is no reason to', async () => {
      const testDb = await createTestDb(kind);
      const db = testDb.db;
      const drop = (): Promise<void> => testDb.drop();
      try {
        const seen: (readonly string[])[] = [];
        const watch = new SchemaWatch(db, silent, (unknown) => seen.push(unknown));
        expect(await watch.check()).toEqual([]);
        await db.query("insert into schema_migrations (version) values ('9999_from_a_newer_verity')");
        expect(await watch.check()).toEqual(['9999_from_a_newer_verity']);
        expect(seen).toEqual([['9999_from_a_newer_verity']]);
        await db.close();
        expect(await watch.check()).toEqual([]);
      } finally {
        await drop().catch(() => undefined);
      }
    });
  });
}
