import type { BaseLogger } from 'pino';
import type { Config } from '../config/config.js';
import type { Db, Queryable } from '../db/db.js';
import { AppError, notFound } from '../errors/app-error.js';
import { removeRecordedFiles, storedName } from '../export/export.service.js';
import { exportStorageFor } from '../export/export.setup.js';
import { recordFileRemovals, selectExportFiles } from '../export/export.sql.js';
import type { ExportStorage } from '../export/export.storage.js';
import { assertOrganizationAccess, requireScope } from '../keys/access.js';
import type { Principal } from '../keys/keys.service.js';
import { keepDeletedOrganizationUsage } from '../metering/metering.sql.js';
import { lockPurge } from '../retention/retention.sql.js';
import { newId } from '../shared/ids.js';
import { idCursorOf, scanOrder, toList, type List, type PageParams } from '../shared/pagination.js';
import type { LogStreamView } from '../streams/streams.schema.js';
import type { CreateOrganizationBody, OrganizationView, RetentionBody, UpdateOrganizationBody } from './organizations.schema.js';
import {
  deleteOrganization,
  insertOrganization,
  lockLogHead,
  lockOrganizationForDelete,
  replaceDomains,
  selectOrganization,
  selectOrganizationByExternalId,
  selectOrganizationPage,
  updateOrganization,
  updateRetention,
  type OrganizationRow,
} from './organizations.sql.js';

export function toOrganizationView(row: OrganizationRow): OrganizationView {
  return {
    object: 'organization',
    id: row.id,
    name: row.name,
    allow_profiles_outside_organization: false,
    domains: row.domains.map((d) => ({
      object: 'organization_domain',
      id: d.id,
      organization_id: row.id,
      domain: d.domain,
      state: d.state,
      verification_strategy: 'manual',
      created_at: new Date(d.created_at).toISOString(),
      updated_at: new Date(d.updated_at).toISOString(),
    })),
    external_id: row.external_id,
    metadata: row.metadata,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    legal_hold: { enabled: row.legal_hold, reason: row.legal_hold_reason, updated_at: row.legal_hold_updated_at?.toISOString() ?? null },
    system: row.system,
  };
}

type DomainInput = Pick<CreateOrganizationBody, 'domain_data' | 'domains'>;

function domainsOf(input: DomainInput): { id: string; domain: string; state: string }[] | undefined {
  const list = input.domain_data ?? input.domains?.map((domain) => ({ domain, state: 'verified' as const }));
  if (list === undefined) return undefined;
  const seen = new Map<string, { id: string; domain: string; state: string }>();
  for (const item of list) {
    // DNS names are case-insensitive, and "example.com." is the same name written fully qualified.
    const domain = item.domain.toLowerCase().replace(/\.$/, '');
    seen.set(domain, { id: newId('organizationDomain'), domain, state: item.state });
  }
  return [...seen.values()];
}

/** WorkOS expresses retention as "N_MONTHS" / "N_YEARS"; a month counts 30 days and a year 365. */
export function retentionDays(body: RetentionBody): number {
  if (body.retention_period_in_days !== undefined) return body.retention_period_in_days;
  const match = /^(\d+)_(MONTH|YEAR)S?$/.exec(body.retention_period ?? '');
  if (match === null) {
    throw new AppError('validation_failed', 'Validation failed.', { errors: [{ code: 'required', field: 'retention_period_in_days' }] });
  }
  return Number(match[1]) * (match[2] === 'MONTH' ? 30 : 365);
}

export class OrganizationsService {
  constructor(
    private readonly db: Db,
    private readonly config: Pick<Config, 'defaultRetentionDays' | 'dataDir' | 'exportS3'>,
    private readonly streamsOf: (organizationId: string) => Promise<LogStreamView[]> = async () => [],
    /** Where export files live, opened only when a deleted organization leaves files to remove. */
    private readonly exportStorage: () => ExportStorage = () => exportStorageFor(config),
  ) {}

  async create(body: CreateOrganizationBody): Promise<OrganizationView> {
    const id = newId('organization');
    await this.db.transaction(async (tx) => {
      await this.assertExternalIdFree(tx, body.external_id ?? null, id);
      await insertOrganization(tx, {
        id,
        name: body.name,
        externalId: body.external_id ?? null,
        metadata: body.metadata ?? {},
        retentionDays: this.config.defaultRetentionDays,
      });
      const domains = domainsOf(body);
      if (domains) await replaceDomains(tx, id, domains);
    });
    return this.get(id);
  }

  async get(id: string, principal?: Principal): Promise<OrganizationView> {
    return toOrganizationView(await this.row(id, principal));
  }

  async getByExternalId(externalId: string, principal: Principal): Promise<OrganizationView> {
    requireScope(principal, 'events:read');
    const row = await selectOrganizationByExternalId(this.db, externalId);
    if (row === undefined || (principal.organizationId !== null && principal.organizationId !== row.id)) {
      throw new AppError('not_found', `Organization not found with external_id: '${externalId}'.`);
    }
    return toOrganizationView(row);
  }

  /**
   * Organizations, WorkOS-style. The system organization is Verity's, not a customer: a vendor's backend
   * syncing its customers through the WorkOS SDK must never see it, so only `includeSystem` lists it
   * (the dashboard does, to open the administrative audit trail).
   */
  async list(principal: Principal, domains: readonly string[], page: PageParams, includeSystem = false): Promise<List<OrganizationView>> {
    requireScope(principal, 'events:read');
    const { cursor, op } = idCursorOf(page, 'organization', 'an organization');
    const rows = await selectOrganizationPage(
      this.db,
      { onlyId: principal.organizationId, domains: domains.map((d) => d.toLowerCase()), includeSystem },
      cursor,
      op,
      scanOrder(page),
      page.limit + 1,
    );
    return toList(rows, page, (row) => row.id, toOrganizationView);
  }

  async update(id: string, body: UpdateOrganizationBody, principal: Principal): Promise<OrganizationView> {
    assertOrganizationAccess(principal, id);
    await this.assertMayChangeSystemOrganization(id, principal);
    await this.db.transaction(async (tx) => {
      if (body.external_id !== undefined) await this.assertExternalIdFree(tx, body.external_id, id);
      const found = await updateOrganization(tx, id, {
        name: body.name,
        externalId: body.external_id,
        metadata: body.metadata === null ? {} : body.metadata,
      });
      if (!found) throw notFound('Organization', id);
      const domains = domainsOf(body);
      if (domains) await replaceDomains(tx, id, domains);
    });
    return this.get(id);
  }

  /**
   * Deletes the organization and all its events (its usage stays billable), then its export files; answers
   * which one it was. The system organization stays, and so does one on legal hold until the hold is lifted.
   */
  async delete(id: string, principal: Principal, log: Pick<BaseLogger, 'warn'>): Promise<{ id: string; name: string }> {
    assertOrganizationAccess(principal, id);
    const { found, files } = await this.db.transaction(async (tx) => {
      // The purge lock first, as legal-hold changes and purge batches take it: a hold being placed is
      // waited for, and no purge batch holds events of the organization that this delete then waits on.
      await lockPurge(tx, id);
      const target = await lockOrganizationForDelete(tx, id);
      if (target === undefined) throw notFound('Organization', id);
      // Verity's own administrative log is evidence too: it is not a tenant anyone may delete.
      if (target.system) {
        throw new AppError('forbidden', 'The Verity system organization holds the administrative audit log and cannot be deleted.');
      }
      // A hold preserves evidence; deleting the organization would destroy all of it at once.
      if (target.legal_hold) {
        throw new AppError(
          'legal_hold_active',
          `Organization '${id}' is on legal hold: lift the legal hold first (PUT /organizations/${id}/legal_hold {"enabled": false}), then delete it.`,
        );
      }
      await lockLogHead(tx, id);
      await keepDeletedOrganizationUsage(tx, id);
      const exportFiles = (await selectExportFiles(tx, id)).map((row) => ({ name: storedName(row), organization_id: id }));
      // Recorded with the delete: a file storage cannot remove now is retried by the export cleanup.
      await recordFileRemovals(
        tx,
        id,
        exportFiles.map((file) => file.name),
      );
      await deleteOrganization(tx, id);
      return { found: target, files: exportFiles };
    });
    // Only once the delete has committed: a rolled-back delete must find its exports' files still there.
    await this.removeExportFiles(id, files, log);
    return { id: found.id, name: found.name };
  }

  /** Their rows went with the organization; the records made in the delete's transaction still name them. */
  private async removeExportFiles(organizationId: string, files: readonly { name: string; organization_id: string }[], log: Pick<BaseLogger, 'warn'>): Promise<void> {
    if (files.length === 0) return;
    let storage: ExportStorage | undefined;
    try {
      storage = this.exportStorage();
      await removeRecordedFiles(this.db, storage, files, log);
    } catch (error) {
      log.warn({ err: error, organizationId, files: files.map((file) => file.name) }, 'could not delete the export files of a deleted organization; the export cleanup retries');
    } finally {
      storage?.close();
    }
  }

  async getRetention(id: string, principal: Principal): Promise<{ retention_period_in_days: number }> {
    const row = await this.row(id, principal);
    return { retention_period_in_days: row.retention_period_in_days };
  }

  async setRetention(id: string, body: RetentionBody, principal: Principal): Promise<{ retention_period_in_days: number }> {
    assertOrganizationAccess(principal, id);
    await this.assertMayChangeSystemOrganization(id, principal);
    const days = retentionDays(body);
    if (!(await updateRetention(this.db, id, days))) throw notFound('Organization', id);
    return { retention_period_in_days: days };
  }

  async auditLogConfiguration(id: string, principal: Principal): Promise<Record<string, unknown>> {
    const row = await this.row(id, principal);
    const streams = await this.streamsOf(row.id);
    const first = streams[0];
    return {
      organization_id: row.id,
      retention_period_in_days: row.retention_period_in_days,
      state: 'active',
      // WorkOS reports one stream; Verity allows several and lists them all in log_streams.
      ...(first === undefined
        ? {}
        : { log_stream: { id: first.id, type: first.type, state: first.state, last_synced_at: first.last_synced_at, created_at: first.created_at } }),
      log_streams: streams.map((s) => ({ id: s.id, type: s.type, name: s.name, state: s.state, state_reason: s.state_reason, last_synced_at: s.last_synced_at, created_at: s.created_at })),
    };
  }

  /**
   * The system organization's log is the trail of administrative actions, API keys' included: its name and
   * ids (which a vendor's backend could mistake for a customer's, and open a portal on), how long it is kept
   * and whether it is on legal hold are an operator's to change (in the dashboard), so a leaked admin key
   * can neither pass it off as a customer nor have the record of its own use purged.
   */
  async assertMayChangeSystemOrganization(id: string, principal: Principal): Promise<void> {
    if (principal.kind === 'operator') return;
    if ((await selectOrganization(this.db, id))?.system === true) {
      throw new AppError(
        'forbidden',
        'Only an operator signed in to the dashboard may change the Verity system organization (its name, ids, retention or legal hold): its log is the trail of administrative actions.',
      );
    }
  }

  /**
   * The organization as a caller may read it: with events:read (an events:write key, meant for an
   * application's ingest, reads no tenant's name, domains or configuration) and access to it.
   */
  private async row(id: string, principal?: Principal): Promise<OrganizationRow> {
    if (principal) {
      requireScope(principal, 'events:read');
      assertOrganizationAccess(principal, id);
    }
    const row = await selectOrganization(this.db, id);
    if (row === undefined) throw notFound('Organization', id);
    return row;
  }

  private async assertExternalIdFree(tx: Queryable, externalId: string | null, selfId: string): Promise<void> {
    if (externalId === null) return;
    const existing = await selectOrganizationByExternalId(tx, externalId);
    if (existing !== undefined && existing.id !== selfId) {
      throw new AppError('conflict', `An organization with external_id '${externalId}' already exists.`);
    }
  }
}
