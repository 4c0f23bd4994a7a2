import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import type { Db, DbKind } from '../../src/db/db.js';
import { openPglite } from '../../src/db/pglite.js';
import { openPostgres } from '../../src/db/postgres.js';
import { adminUrl, cloneNamePrefix, postgresUrlFor } from './postgres-url.js';

export interface TestDb {
  db: Db;
  /** Connection string of the test's own database (PostgreSQL only): for child processes. */
  url: string | undefined;
  drop(): Promise<void>;
}

/** Whether PostgreSQL tests run; under VERITY_REQUIRE_POSTGRES=1 an unreachable server fails the run. */
export function postgresAvailability(): { available: boolean; reason: string | null } {
  const reason = inject('postgresSkipReason');
  if (reason !== null && process.env.VERITY_REQUIRE_POSTGRES === '1') {
    throw new Error(`VERITY_REQUIRE_POSTGRES=1 but ${reason}`);
  }
  return { available: reason === null, reason };
}

/** A fresh, migrated database of the given kind, cloned from the run's template. */
export async function createTestDb(kind: DbKind): Promise<TestDb> {
  if (kind === 'pglite') {
    const dump = new Blob([readFileSync(inject('pgliteTemplate'))]);
    const db = await openPglite({ loadDataDir: dump });
    return { db, url: undefined, drop: () => db.close() };
  }
  const template = inject('postgresTemplate');
  if (template === null) throw new Error('PostgreSQL is not available');
  const name = `${cloneNamePrefix(template)}${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${template}`);
  } finally {
    await admin.end();
  }
  const url = postgresUrlFor(name);
  const db = await openPostgres({ connectionString: url, poolSize: 20 });
  return {
    db,
    url,
    drop: async () => {
      await db.close();
      const cleanup = new pg.Client({ connectionString: adminUrl() });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}
