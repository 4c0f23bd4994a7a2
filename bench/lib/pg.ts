import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { openPostgres } from '../../src/db/postgres.js';

/** The PostgreSQL server the bench uses: loopback only; scratch databases are created and dropped here. */
export const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function urlFor(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

function assertLoopback(): void {
  const host = new URL(ADMIN_URL).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1' && host !== '[::1]') {
    throw new Error(`BENCH_PG_URL must point at a loopback address (got host ${host})`);
  }
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  assertLoopback();
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function postgresAvailable(): Promise<string | undefined> {
  try {
    return await admin(async (client) => (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v);
  } catch {
    return undefined;
  }
}

const created = new Set<string>();

/** A fresh, empty database named verity_bench_<pid>_<label>; dropped by dropScratchDatabases(). */
export async function createScratchDatabase(label: string): Promise<{ name: string; url: string }> {
  const name = `verity_bench_${process.pid}_${label}`;
  await admin(async (client) => {
    await client.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
    await client.query(`create database ${pg.escapeIdentifier(name)} template template0`);
  });
  created.add(name);
  return { name, url: urlFor(name) };
}

export async function dropScratchDatabase(name: string): Promise<void> {
  await admin((client) => client.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`));
  created.delete(name);
}

export async function dropScratchDatabases(): Promise<void> {
  for (const name of [...created]) await dropScratchDatabase(name).catch(() => undefined);
}

/** Applies Verity's real migrations (src/db/migrate.ts) to a database. */
export async function migrateDatabase(url: string): Promise<void> {
  const db = await openPostgres({ connectionString: url, poolSize: 2 });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
