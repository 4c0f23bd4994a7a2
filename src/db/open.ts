import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Db } from './db.js';
import { lockDataDir, type DataDirLock, type LockHolder } from './dir-lock.js';
import { migrate } from './migrate.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export interface OpenedDb {
  db: Db;
  /** The migrations this open applied (empty when the database was up to date). */
  applied: string[];
  /** Closes the database and frees the data-directory lock. */
  close(): Promise<void>;
}

/**
 * Opens the configured database (PostgreSQL when DATABASE_URL is set, else PGlite in the data directory,
 * under its exclusive lock) and applies pending migrations. `existing`: refuse to create an embedded database
 * (for commands that only read one).
 */
export async function openDatabase(config: Config, holder: LockHolder, logger?: Logger, options: { existing?: boolean } = {}): Promise<OpenedDb> {
  if (options.existing === true && config.databaseUrl === undefined && !existsSync(path.join(config.dataDir, 'pglite', 'PG_VERSION'))) {
    // A command that reads what a server stored must not leave an empty database where it looked.
    throw new Error(
      `No Verity database in ${path.resolve(config.dataDir)}: set VERITY_DATA_DIR to the server's data directory, ` +
        'DATABASE_URL to its PostgreSQL database, or pass --url to go through a running server. ' +
        '(A new embedded database is made by the first `npm start`, or by `verity migrate`.)',
    );
  }
  if (config.databaseUrl !== undefined) {
    const db = await openPostgres({ connectionString: config.databaseUrl, poolSize: config.dbPoolSize, logger });
    const applied = await runMigrations(db, logger);
    return { db, applied, close: () => db.close() };
  }
  const lock: DataDirLock = await lockDataDir(config.dataDir, holder);
  try {
    const db = await openPglite({ dataDir: `${config.dataDir}/pglite` });
    const applied = await runMigrations(db, logger);
    return {
      db,
      applied,
      close: async () => {
        await db.close();
        await lock.release();
      },
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

async function runMigrations(db: Db, logger?: Logger): Promise<string[]> {
  const applied = await migrate(db);
  if (applied.length > 0) logger?.info({ applied }, 'database migrations applied');
  return applied;
}
