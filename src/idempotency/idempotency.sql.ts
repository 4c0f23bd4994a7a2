import type { Queryable } from '../db/db.js';

/** Keys are honoured for 24 hours; after that the same key starts a new request. */
export const IDEMPOTENCY_TTL_SQL = "interval '24 hours'";

export interface IdempotencyRecord {
  scope: string;
  key: string;
  request_hash: string;
  state: 'processing' | 'done';
  response_status: number | null;
  response_body: string | null;
  created_at: Date;
}

export interface NewIdempotencyRecord {
  scope: string;
  key: string;
  request_hash: string;
  state: 'processing' | 'done';
  response_status: number | null;
  response_body: string | null;
}

/** Drops expired records for these keys, so an old key is free again. */
export async function deleteExpired(tx: Queryable, scopes: readonly string[], keys: readonly string[]): Promise<void> {
  await tx.query(
    `delete from idempotency_keys k using unnest($1::text[], $2::text[]) as r(scope, key)
     where k.scope = r.scope and k.key = r.key and k.created_at < now() - ${IDEMPOTENCY_TTL_SQL}`,
    [scopes, keys],
  );
}

/** Inserts records whose key is free; returns the (scope, key) pairs that were inserted. */
export async function insertRecords(tx: Queryable, records: readonly NewIdempotencyRecord[]): Promise<{ scope: string; key: string }[]> {
  return tx.query(`${insertRecordsSql('$1')} returning scope, key`, [JSON.stringify(records)]);
}

/** Inserts the records in a JSON array parameter whose key is free (also a CTE of the appender's commit). */
export function insertRecordsSql(param: string): string {
  return `insert into idempotency_keys (scope, key, request_hash, state, response_status, response_body)
     select scope, key, request_hash, state, response_status, response_body
     from jsonb_to_recordset(${param}::jsonb) as r(scope text, key text, request_hash text, state text, response_status integer, response_body text)
     on conflict (scope, key) do nothing`;
}

export async function selectRecord(db: Queryable, scope: string, key: string): Promise<IdempotencyRecord | undefined> {
  const rows = await db.query<IdempotencyRecord>(
    `select scope, key, request_hash, state, response_status, response_body, created_at
     from idempotency_keys where scope = $1 and key = $2 and created_at >= now() - ${IDEMPOTENCY_TTL_SQL}`,
    [scope, key],
  );
  return rows[0];
}

/** Takes over a record left 'processing' by a request that died (its process crashed mid-request). */
export async function takeOverStale(db: Queryable, scope: string, key: string, staleSeconds: number): Promise<boolean> {
  const rows = await db.query(
    `update idempotency_keys set created_at = now()
     where scope = $1 and key = $2 and state = 'processing' and created_at < now() - make_interval(secs => $3)
     returning key`,
    [scope, key, staleSeconds],
  );
  return rows.length > 0;
}

export async function completeRecord(db: Queryable, scope: string, key: string, status: number, body: string): Promise<void> {
  await db.query(
    `update idempotency_keys set state = 'done', response_status = $3, response_body = $4
     where scope = $1 and key = $2 and state = 'processing'`,
    [scope, key, status, body],
  );
}

export async function deleteRecord(db: Queryable, scope: string, key: string): Promise<void> {
  await db.query(`delete from idempotency_keys where scope = $1 and key = $2 and state = 'processing'`, [scope, key]);
}

export async function purgeExpired(db: Queryable): Promise<number> {
  const rows = await db.query(`delete from idempotency_keys where created_at < now() - ${IDEMPOTENCY_TTL_SQL} returning key`);
  return rows.length;
}
