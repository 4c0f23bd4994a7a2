import type { Queryable } from '../db/db.js';
import { isSystemOrganizationSql } from '../system-audit/system-audit.sql.js';
import { GENESIS_HASH } from '../ingest/hash.js';

export interface OrganizationRow {
  id: string;
  name: string;
  external_id: string | null;
  metadata: Record<string, unknown>;
  retention_period_in_days: number;
  created_at: Date;
  updated_at: Date;
  /** Timestamps as jsonb renders them (ISO 8601 with the server's offset). */
  domains: { id: string; domain: string; state: string; created_at: string; updated_at: string }[];
  legal_hold: boolean;
  legal_hold_reason: string | null;
  legal_hold_updated_at: Date | null;
  /** Verity's own system organization (src/system-audit), which holds administrative audit events. */
  system: boolean;
}

const SELECT = `select o.id, o.name, o.external_id, o.metadata, o.retention_period_in_days, o.created_at, o.updated_at,
  o.legal_hold, o.legal_hold_reason, o.legal_hold_updated_at,
  ${isSystemOrganizationSql('o.id')} as system,
  coalesce((select jsonb_agg(jsonb_build_object('id', d.id, 'domain', d.domain, 'state', d.state, 'created_at', d.created_at, 'updated_at', d.updated_at) order by d.domain)
            from organization_domains d where d.organization_id = o.id), '[]'::jsonb) as domains
  from organizations o`;

export async function insertOrganization(
  tx: Queryable,
  org: { id: string; name: string; externalId: string | null; metadata: Record<string, unknown>; retentionDays: number },
): Promise<void> {
  await tx.query(
    `insert into organizations (id, name, external_id, metadata, retention_period_in_days) values ($1, $2, $3, $4::jsonb, $5)`,
    [org.id, org.name, org.externalId, JSON.stringify(org.metadata), org.retentionDays],
  );
  await tx.query('insert into org_log_heads (organization_id, seq, hash) values ($1, 0, $2)', [org.id, GENESIS_HASH]);
}

export async function replaceDomains(
  tx: Queryable,
  organizationId: string,
  domains: readonly { id: string; domain: string; state: string }[],
): Promise<void> {
  // Domains listed again keep their id and created_at; only a changed state moves updated_at.
  await tx.query('delete from organization_domains where organization_id = $1 and not (domain = any($2::text[]))', [
    organizationId,
    domains.map((d) => d.domain),
  ]);
  if (domains.length === 0) return;
  await tx.query(
    `insert into organization_domains (id, organization_id, domain, state)
     select r.id, $1, r.domain, r.state from jsonb_to_recordset($2::jsonb) as r(id text, domain text, state text)
     on conflict (organization_id, domain) do update set state = excluded.state,
       updated_at = case when organization_domains.state = excluded.state then organization_domains.updated_at else now() end`,
    [organizationId, JSON.stringify(domains)],
  );
}

export async function updateOrganization(
  tx: Queryable,
  id: string,
  changes: { name?: string | undefined; externalId?: string | null | undefined; metadata?: Record<string, unknown> | undefined },
): Promise<boolean> {
  const rows = await tx.query(
    `update organizations set
       name = coalesce($2, name),
       external_id = case when $3::boolean then $4 else external_id end,
       metadata = coalesce($5::jsonb, metadata),
       updated_at = now()
     where id = $1 returning id`,
    [
      id,
      changes.name ?? null,
      changes.externalId !== undefined,
      changes.externalId ?? null,
      changes.metadata === undefined ? null : JSON.stringify(changes.metadata),
    ],
  );
  return rows.length > 0;
}

export async function selectOrganization(db: Queryable, id: string): Promise<OrganizationRow | undefined> {
  return (await db.query<OrganizationRow>(`${SELECT} where o.id = $1`, [id]))[0];
}

export async function selectOrganizationByExternalId(db: Queryable, externalId: string): Promise<OrganizationRow | undefined> {
  return (await db.query<OrganizationRow>(`${SELECT} where o.external_id = $1`, [externalId]))[0];
}

export async function selectOrganizationPage(
  db: Queryable,
  filter: { onlyId: string | null; domains: readonly string[]; includeSystem: boolean },
  cursor: string | undefined,
  op: '<' | '>',
  order: 'asc' | 'desc',
  limit: number,
): Promise<OrganizationRow[]> {
  return db.query<OrganizationRow>(
    `${SELECT}
     where ($1::text is null or o.id = $1)
       and (cardinality($2::text[]) = 0 or exists (select 1 from organization_domains d where d.organization_id = o.id and d.domain = any($2::text[])))
       and ($3::text is null or o.id ${op} $3)
       and ($5::boolean or not ${isSystemOrganizationSql('o.id')})
     order by o.id ${order} limit $4`,
    [filter.onlyId, filter.domains, cursor ?? null, limit, filter.includeSystem],
  );
}

/** The organization being deleted, as its deletion must check it. */
export interface OrganizationToDelete {
  id: string;
  name: string;
  system: boolean;
  legal_hold: boolean;
}

/**
 * Locks the organization's row for its deletion, or answers undefined when there is none. A legal-hold
 * change updates this row, so it waits for the deletion to commit, and the deletion reads the hold as
 * committed by then: a hold placed "at the same moment" either stops the delete or comes too late to exist.
 */
export async function lockOrganizationForDelete(tx: Queryable, id: string): Promise<OrganizationToDelete | undefined> {
  const [found] = await tx.query<OrganizationToDelete>(
    `select o.id, o.name, ${isSystemOrganizationSql('o.id')} as system, o.legal_hold from organizations o where o.id = $1 for update`,
    [id],
  );
  return found;
}

/** Locks the log's head, so no append is half-way while the log goes. */
export async function lockLogHead(tx: Queryable, id: string): Promise<void> {
  await tx.query('select 1 from org_log_heads where organization_id = $1 for update', [id]);
}

/**
 * Removes a locked organization and its whole log (events have no FK, so they go first, explicitly);
 * everything else of it cascades.
 */
export async function deleteOrganization(tx: Queryable, id: string): Promise<void> {
  await tx.query('delete from events where organization_id = $1', [id]);
  await tx.query('delete from organizations where id = $1', [id]);
}

export async function updateRetention(db: Queryable, id: string, days: number): Promise<boolean> {
  const rows = await db.query(
    'update organizations set retention_period_in_days = $2, updated_at = now() where id = $1 returning id',
    [id, days],
  );
  return rows.length > 0;
}
