import type { Queryable } from '../db/db.js';

export interface ApiKeyRow {
  id: string;
  name: string;
  display_prefix: string;
  scopes: string[];
  organization_id: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, display_prefix, scopes, organization_id, created_at, last_used_at, revoked_at';

export async function insertApiKey(
  db: Queryable,
  key: { id: string; name: string; secretHash: string; displayPrefix: string; scopes: readonly string[]; organizationId: string | null },
): Promise<ApiKeyRow> {
  const rows = await db.query<ApiKeyRow>(
    `insert into api_keys (id, name, secret_hash, display_prefix, scopes, organization_id)
     values ($1, $2, $3, $4, $5, $6) returning ${COLUMNS}`,
    [key.id, key.name, key.secretHash, key.displayPrefix, key.scopes, key.organizationId],
  );
  return rows[0] as ApiKeyRow;
}

/** Inserts the key unless one with this secret exists; used for VERITY_BOOTSTRAP_API_KEY. */
export async function ensureApiKey(
  db: Queryable,
  key: { id: string; name: string; secretHash: string; displayPrefix: string; scopes: readonly string[] },
): Promise<void> {
  await db.query(
    `insert into api_keys (id, name, secret_hash, display_prefix, scopes)
     values ($1, $2, $3, $4, $5)
     on conflict (secret_hash) do update set revoked_at = null, scopes = excluded.scopes`,
    [key.id, key.name, key.secretHash, key.displayPrefix, key.scopes],
  );
}

export async function selectActiveKeyByHash(db: Queryable, secretHash: string): Promise<ApiKeyRow | undefined> {
  const rows = await db.query<ApiKeyRow>(
    `select ${COLUMNS} from api_keys where secret_hash = $1 and revoked_at is null`,
    [secretHash],
  );
  return rows[0];
}

export async function selectApiKeys(db: Queryable, includeRevoked: boolean): Promise<ApiKeyRow[]> {
  return db.query<ApiKeyRow>(
    `select ${COLUMNS} from api_keys where $1 or revoked_at is null order by id desc`,
    [includeRevoked],
  );
}

export async function countActiveKeys(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: number }>('select count(*)::int8 as n from api_keys where revoked_at is null');
  return rows[0]?.n ?? 0;
}

export async function revokeApiKey(db: Queryable, id: string): Promise<ApiKeyRow | undefined> {
  const rows = await db.query<ApiKeyRow>(
    `update api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1 returning ${COLUMNS}`,
    [id],
  );
  return rows[0];
}

export async function touchApiKeys(db: Queryable, ids: readonly string[]): Promise<void> {
  await db.query('update api_keys set last_used_at = now() where id = any($1::text[])', [ids]);
}
