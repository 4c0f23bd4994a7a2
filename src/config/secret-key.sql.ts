import type { Queryable } from '../db/db.js';

/** The check value sealed under `name`, stored by the first process that got here (this one or another). */
export async function ensureSecretKeyCheck(db: Queryable, name: string, sealed: string): Promise<string> {
  await db.query('insert into secret_key_checks (name, sealed) values ($1, $2) on conflict (name) do nothing', [name, sealed]);
  const rows = await db.query<{ sealed: string }>('select sealed from secret_key_checks where name = $1', [name]);
  return rows[0]?.sealed ?? sealed;
}
