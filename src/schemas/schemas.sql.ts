import type { Queryable } from '../db/db.js';
import type { SchemaDefinition } from './schemas.schema.js';

export interface SchemaRow {
  action: string;
  version: number;
  schema: SchemaDefinition;
  created_at: Date;
}

export interface ActionRow {
  name: string;
  created_at: Date;
  updated_at: Date;
  latest: SchemaRow | null;
}

/**
 * Adds the next version of an action's schema, creating the action if needed. The action row is locked
 * (upsert) first, so two concurrent creations get versions n and n+1, never the same one.
 */
export async function insertNextSchema(tx: Queryable, action: string, id: string, schema: SchemaDefinition): Promise<SchemaRow> {
  await tx.query(
    `insert into actions (name) values ($1) on conflict (name) do update set updated_at = now()`,
    [action],
  );
  const rows = await tx.query<SchemaRow>(
    `insert into action_schemas (action, version, id, schema)
     select $1, coalesce(max(version), 0) + 1, $2, $3::jsonb from action_schemas where action = $1
     returning action, version, schema, created_at`,
    [action, id, JSON.stringify(schema)],
  );
  return rows[0] as SchemaRow;
}

export async function selectSchema(db: Queryable, action: string, version: number): Promise<SchemaRow | undefined> {
  const rows = await db.query<SchemaRow>(
    'select action, version, schema, created_at from action_schemas where action = $1 and version = $2',
    [action, version],
  );
  return rows[0];
}

export async function selectLatestVersion(db: Queryable, action: string): Promise<number | null> {
  const rows = await db.query<{ version: number | null }>('select max(version) as version from action_schemas where action = $1', [action]);
  return rows[0]?.version ?? null;
}

export async function selectSchemaPage(
  db: Queryable,
  action: string,
  cursor: number | undefined,
  op: '<' | '>',
  order: 'asc' | 'desc',
  limit: number,
): Promise<SchemaRow[]> {
  return db.query<SchemaRow>(
    `select action, version, schema, created_at from action_schemas
     where action = $1 and ($2::int is null or version ${op} $2::int)
     order by version ${order} limit $3`,
    [action, cursor ?? null, limit],
  );
}

export async function actionExists(db: Queryable, action: string): Promise<boolean> {
  return (await db.query('select 1 from actions where name = $1', [action])).length > 0;
}

export async function selectActionPage(
  db: Queryable,
  cursor: string | undefined,
  op: '<' | '>',
  order: 'asc' | 'desc',
  limit: number,
): Promise<ActionRow[]> {
  return db.query<ActionRow>(
    `select a.name, a.created_at, a.updated_at,
       (select to_jsonb(s) from (select action, version, schema, created_at from action_schemas
          where action = a.name order by version desc limit 1) s) as latest
     from actions a
     where ($1::text is null or a.name ${op} $1::text)
     order by a.name ${order} limit $2`,
    [cursor ?? null, limit],
  );
}
