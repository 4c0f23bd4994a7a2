import type { Queryable } from '../db/db.js';

/** The check value sealed under `name`, stored by the first process that got here (this one or another). */
export async function ensureSecretKeyCheck(db: Queryable, name: string, sealed: string): Promise<string> {
  await db.query('insert into secret_key_checks (name, sealed) values ($1, $2) on conflict (name) do nothing', [name, sealed]);
  return (await selectSecretKeyCheck(db, name)) ?? sealed;
}

/** The check value, if a process has stored one. */
export async function selectSecretKeyCheck(db: Queryable, name: string): Promise<string | undefined> {
  const rows = await db.query<{ sealed: string }>('select sealed from secret_key_checks where name = $1', [name]);
  return rows[0]?.sealed;
}

/**
 * One secret sealed before the check existed (a database from before migration 0009): log stream
 * credentials are sealed with the stream id as additional data.
 */
export async function selectSealedStreamSecret(db: Queryable): Promise<{ id: string; secrets: string } | undefined> {
  const rows = await db.query<{ id: string; secrets: string }>('select id, secrets from log_streams where secrets is not null order by created_at limit 1');
  return rows[0];
}
