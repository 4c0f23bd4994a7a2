import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../shared/package-root.js';
import type { Db } from './db.js';

// Any constant shared by every Verity process: the advisory lock serialises migrators on PostgreSQL.
const MIGRATION_LOCK_ID = 7_461_993_221;

export interface Migration {
  version: string;
  sql: string;
}

export function loadMigrations(dir = path.join(packageRoot(), 'migrations')): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({ version: file.replace(/\.sql$/, ''), sql: readFileSync(path.join(dir, file), 'utf8') }));
}

/**
 * Applies pending migrations, each in its own transaction. The transaction-scoped advisory lock makes
 * processes starting at once take turns; the one that comes second sees the ledger row and skips.
 * Returns the versions this call applied.
 */
export async function migrate(db: Db, migrations: readonly Migration[] = loadMigrations()): Promise<string[]> {
  const applied: string[] = [];
  for (const migration of migrations) {
    const ran = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
      await tx.exec(
        'create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())',
      );
      const done = await tx.query('select 1 from schema_migrations where version = $1', [migration.version]);
      if (done.length > 0) return false;
      await tx.query('insert into schema_migrations (version) values ($1)', [migration.version]);
      await tx.exec(migration.sql);
      return true;
    });
    if (ran) applied.push(migration.version);
  }
  return applied;
}
