import type { Queryable } from '../db/db.js';

/**
 * SQL that is true when the organization id in `column` is Verity's system organization: the one place
 * that knows how it is recorded, for every listing, count and bill that must leave it out. `column` is a
 * column reference written in code, never input.
 */
export function isSystemOrganizationSql(column: string): string {
  return `exists (select 1 from system_organization s where s.organization_id = ${column})`;
}

/** Serialises processes that might create the system organization at the same moment. */
export async function lockSystemOrganization(tx: Queryable): Promise<void> {
  await tx.query('lock table system_organization in exclusive mode');
}

export async function selectSystemOrganizationId(db: Queryable): Promise<string | undefined> {
  const rows = await db.query<{ organization_id: string }>('select organization_id from system_organization');
  return rows[0]?.organization_id;
}

export async function insertSystemOrganizationId(tx: Queryable, organizationId: string): Promise<void> {
  await tx.query('insert into system_organization (singleton, organization_id) values (true, $1)', [organizationId]);
}
