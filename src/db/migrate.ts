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
 * The database holds migrations this version does not know: a newer Verity migrated it. Running on it
 * would write with an outdated picture of the schema (a column the newer version relies on left unset, a
 * check it makes skipped), so an older version refuses to start, and a running one stops (SchemaWatch).
 */
export class NewerSchemaError extends Error {
  constructor(readonly unknown: readonly string[]) {
    super(
      `This database was migrated by a newer version of Verity (migrations unknown to this one: ${unknown.join(', ')}). ` +
        'Run that version or a later one; going back needs a backup taken before the upgrade.',
    );
    this.name = 'NewerSchemaError';
  }
}

/**
 * Migrations that were on main briefly and then withdrawn (their effect undone by a later migration): a
 * database migrated in between holds their names, which are not a newer version's.
 */
const WITHDRAWN_MIGRATIONS = ['0008_search_blocks'];

/** Migrations recorded in the database that are not among `known` (none on a database never migrated). */
export async function unknownMigrations(db: Db, known: readonly Migration[] = loadMigrations()): Promise<string[]> {
  const ledger = await db.query<{ present: boolean }>("select to_regclass('schema_migrations') is not null as present");
  if (ledger[0]?.present !== true) return [];
  const rows = await db.query<{ version: string }>('select version from schema_migrations where version <> all($1::text[]) order by version', [
    [...known.map((m) => m.version), ...WITHDRAWN_MIGRATIONS],
  ]);
  return rows.map((row) => row.version);
}

/**
 * Applies pending migrations, each in its own transaction. The transaction-scoped advisory lock makes
 * processes starting at once take turns; the one that comes second sees the ledger row and skips.
 * Returns the versions this call applied.
 */
export async function migrate(db: Db, migrations: readonly Migration[] = loadMigrations()): Promise<string[]> {
  const newer = await unknownMigrations(db, migrations);
  if (newer.length > 0) throw new NewerSchemaError(newer);
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
