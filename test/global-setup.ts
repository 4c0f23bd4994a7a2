import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/db/migrate.js';
import { openPglite } from '../src/db/pglite.js';
import { openPostgres } from '../src/db/postgres.js';
import { adminUrl, cloneNamePrefix, postgresUrlFor, TEMPLATE_PREFIX } from './helpers/postgres-url.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    postgresTemplate: string | null;
    postgresSkipReason: string | null;
  }
}

/**
 * Builds migrated templates once per run: a PGlite dump (loading it costs ~1 s instead of a 3–4 s initdb)
 * and, when a server answers, a PostgreSQL template database that each test file clones.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'verity-test-'));
  const pglite = await openPglite();
  await migrate(pglite);
  const dumpFile = path.join(dir, 'pglite-template.tar');
  writeFileSync(dumpFile, Buffer.from(await (await pglite.dump()).arrayBuffer()));
  await pglite.close();
  project.provide('pgliteTemplate', dumpFile);

  let template: string | null = null;
  let skipReason: string | null = null;
  const admin = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
    template = `${TEMPLATE_PREFIX}${process.pid}`;
    await admin.query(`drop database if exists ${template}`);
    await admin.query(`create database ${template}`);
    const db = await openPostgres({ connectionString: postgresUrlFor(template), poolSize: 2 });
    await migrate(db);
    await db.close();
  } catch (error) {
    skipReason = `PostgreSQL not reachable at ${adminUrl()}: ${(error as Error).message}`;
    template = null;
  }
  project.provide('postgresTemplate', template);
  project.provide('postgresSkipReason', skipReason);

  return async () => {
    rmSync(dir, { recursive: true, force: true });
    if (template !== null) {
      // Drop the template and any clone of it a crashed test file left behind (only this run's: other
      // runs on the same server have their own).
      const rows = await admin.query<{ datname: string }>(
        `select datname from pg_database where datname = $1 or datname like $2`,
        [template, `${cloneNamePrefix(template)}%`],
      );
      for (const row of rows.rows) await admin.query(`drop database if exists ${row.datname} with (force)`).catch(() => undefined);
    }
    await admin.end().catch(() => undefined);
  };
}
