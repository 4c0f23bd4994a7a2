import { describe, expect, it } from 'vitest';
import type { Db } from '../db/db.js';
import { SchemasService } from './schemas.service.js';

/** A database holding versions 1 and 2 of one action's schema, counting the "latest version" lookups. */
function fakeDb(): { db: Db; latestLookups: () => number } {
  let lookups = 0;
  const schema = { targets: [{ type: 'team' }] };
  const query = async (sql: string, params: readonly unknown[] = []): Promise<never[]> => {
    if (sql.includes('max(version)')) {
      lookups += 1;
      return [{ version: params[0] === 'user.signed_in' ? 2 : null }] as never[];
    }
    if (sql.includes('from action_schemas where action = $1 and version = $2')) {
      return (Number(params[1]) <= 2 ? [{ action: params[0], version: params[1], schema, created_at: new Date(0) }] : []) as never[];
    }
    throw new Error(`unexpected query: ${sql}`);
  };
  const db = { kind: 'pglite', query, exec: query, transaction: async () => undefined } as unknown as Db;
  return { db, latestLookups: () => lookups };
}

describe('SchemasService.resolve', () => {
  it('answers events naming a version at or below the cached latest without reading the database again', async () => {
    const { db, latestLookups } = fakeDb();
    const schemas = new SchemasService(db);
    expect((await schemas.resolve('user.signed_in', undefined))?.version).toBe(2);
    expect((await schemas.resolve('user.signed_in', 1))?.version).toBe(1);
    expect((await schemas.resolve('user.signed_in', 2))?.version).toBe(2);
    expect(latestLookups()).toBe(1);
  });

  it('re-reads the latest version when an event names one past it (it may have just been created)', async () => {
    const { db, latestLookups } = fakeDb();
    const schemas = new SchemasService(db);
    await schemas.resolve('user.signed_in', undefined);
    await expect(schemas.resolve('user.signed_in', 3)).rejects.toMatchObject({ code: 'invalid_audit_log_schema_version' });
    expect(latestLookups()).toBe(2);
  });

  it('accepts version 1 of an action with no schemas from the cache; re-reads for a later one, and refuses it', async () => {
    const { db, latestLookups } = fakeDb();
    const schemas = new SchemasService(db);
    expect(await schemas.resolve('document.viewed', undefined)).toBeNull();
    expect(await schemas.resolve('document.viewed', 1)).toBeNull();
    expect(latestLookups()).toBe(1);
    await expect(schemas.resolve('document.viewed', 2)).rejects.toMatchObject({ code: 'invalid_audit_log_schema_version' });
    expect(latestLookups()).toBe(2);
  });
});
