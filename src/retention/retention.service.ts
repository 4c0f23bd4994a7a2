import type { Logger } from 'pino';
import type { Db, Queryable } from '../db/db.js';
import { notFound } from '../errors/app-error.js';
import { assertOrganizationAccess } from '../keys/access.js';
import type { Principal } from '../keys/keys.service.js';
import type { OrganizationView } from '../organizations/organizations.schema.js';
import type { OrganizationsService } from '../organizations/organizations.service.js';
import { rangeStatement, type PurgedRangeStatement, type RangeSignature } from '../integrity/range-signature.js';
import { mergeRuns, neighbourKeys, runsOf, type StoredPurgedRange } from './purged-ranges.js';
import type { LegalHoldBody, RetentionRunView } from './retention.schema.js';
import {
  compressWal,
  decrementStored,
  deleteExpiredBatch,
  lockPurge,
  replaceRanges,
  selectAdjacentRanges,
  selectPurgeCandidates,
  selectPurgeTarget,
  updateLegalHold,
} from './retention.sql.js';

export interface RetentionOptions {
  /**
   * Events deleted per transaction. Each batch is its own short transaction and takes the head row that
   * ingest locks only for its final counter update, so appends wait at most one commit.
   */
  batchSize?: number;
  /**
   * Signs the ranges a purge writes (the integrity service, with the server's key). Without one, ranges are
   * written unsigned, and verification reports them.
   */
  signer?: RangeSigner;
}

/** Signs purged ranges, and tells whether a stored range's signature holds (only those are merged into). */
export interface RangeSigner {
  signRange(statement: PurgedRangeStatement): RangeSignature;
  rangeSignatureValid(statement: PurgedRangeStatement & { key_id: string | null; signature: string | null }): boolean;
}

export interface OrganizationPurge {
  purged: number;
  batches: number;
  /** The organization was (or came to be) on legal hold, so purging stopped. */
  held: boolean;
}

type BatchOutcome = { kind: 'purged'; count: number; reached: Date | null } | { kind: 'held' } | { kind: 'gone' };

// 10,000 purged a million events fastest of 5,000, 10,000 and 20,000 (a batch is still a fraction of a second).
export const DEFAULT_PURGE_BATCH_SIZE = 10_000;

/** Enforces each organization's retention period, except for organizations on legal hold. */
export class RetentionService {
  private readonly batchSize: number;
  private readonly signer: RangeSigner | undefined;
  /**
   * Whether purge batches compress their WAL; learnt from the first batch (undefined until then), as the
   * permission and the build do not change while the process runs.
   */
  private walCompression: boolean | undefined;

  constructor(
    private readonly db: Db,
    private readonly organizations: OrganizationsService,
    private readonly logger: Logger,
    options: RetentionOptions = {},
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_PURGE_BATCH_SIZE;
    this.signer = options.signer;
  }

  /** One pass over every organization. A failing organization does not stop the others; the run then fails. */
  async run(): Promise<RetentionRunView> {
    const startedAt = await this.now();
    const view: RetentionRunView = { object: 'retention_run', organizations: [], purged_total: 0, skipped_legal_hold: [] };
    const failed: string[] = [];
    for (const candidate of await selectPurgeCandidates(this.db)) {
      if (candidate.legal_hold) {
        view.skipped_legal_hold.push(candidate.id);
        continue;
      }
      try {
        const outcome = await this.purgeOrganization(candidate.id, startedAt);
        if (outcome.purged > 0) view.organizations.push({ organization_id: candidate.id, purged: outcome.purged });
        if (outcome.held) view.skipped_legal_hold.push(candidate.id);
        view.purged_total += outcome.purged;
      } catch (error) {
        this.logger.error({ err: error, organizationId: candidate.id }, 'retention purge failed for an organization');
        failed.push(candidate.id);
      }
    }
    if (view.purged_total > 0) this.logger.info({ purged: view.purged_total, organizations: view.organizations.length }, 'retention purge');
    if (failed.length > 0) throw new Error(`retention purge failed for ${failed.length} organization(s): ${failed.join(', ')}`);
    return view;
  }

  /** Purges one organization's expired events, batch after batch, until none are left or a hold appears. */
  async purgeOrganization(organizationId: string, startedAt?: Date): Promise<OrganizationPurge> {
    const since = startedAt ?? (await this.now());
    const result: OrganizationPurge = { purged: 0, batches: 0, held: false };
    // Batches go oldest first; an event backdated behind `reached` while the run goes on waits for the next run.
    let reached: Date | null = null;
    for (;;) {
      const from: Date | null = reached;
      const outcome: BatchOutcome = await this.db.transaction((tx) => this.purgeBatch(tx, organizationId, since, from));
      if (outcome.kind === 'held') return { ...result, held: true };
      if (outcome.kind === 'gone' || outcome.count === 0) return result;
      result.purged += outcome.count;
      result.batches += 1;
      reached = outcome.reached;
      if (outcome.count < this.batchSize) return result;
    }
  }

  async setLegalHold(organizationId: string, body: LegalHoldBody, principal: Principal): Promise<OrganizationView> {
    assertOrganizationAccess(principal, organizationId);
    await this.organizations.assertMayChangeSystemOrganization(organizationId, principal);
    const reason = body.reason === undefined || body.reason === null || body.reason.trim() === '' ? null : body.reason;
    await this.db.transaction(async (tx) => {
      // Waits for a purge batch in flight: once this commits, no batch deletes another event of the organization.
      await lockPurge(tx, organizationId);
      if (!(await updateLegalHold(tx, organizationId, body.enabled, reason))) throw notFound('Organization', organizationId);
    });
    this.logger.info({ organizationId, enabled: body.enabled, principalId: principal.id }, 'legal hold changed');
    return this.organizations.get(organizationId);
  }

  private async purgeBatch(tx: Queryable, organizationId: string, startedAt: Date, from: Date | null): Promise<BatchOutcome> {
    // A batch writes megabytes of WAL (each old page is logged whole on its first change after a
    // checkpoint); waiting for it to reach disk at every commit took a third of a purge's time. Without the
    // wait a crash can lose only the last batches, whole (events, ranges and counter together), and the
    // next run deletes those events again: nothing is lost that must be kept, and the chain stays exact.
    await tx.query('set local synchronous_commit = off');
    // Nearly all of that WAL is images of pages whose events are about to go; lz4 halves it (259 → 116 MiB
    // for 200,000 bench events, at the same speed). Ingest commits flush the WAL written before them, the
    // purge's included, so less of it is less for their fsync to wait on.
    if (this.walCompression !== false) this.walCompression = await compressWal(tx);
    await lockPurge(tx, organizationId);
    const target = await selectPurgeTarget(tx, organizationId, startedAt);
    if (target === undefined) return { kind: 'gone' };
    if (target.legal_hold) return { kind: 'held' };
    const { deleted, reached } = await deleteExpiredBatch(tx, organizationId, from, target.cutoff, this.batchSize);
    if (deleted.length === 0 || reached === null) return { kind: 'purged', count: 0, reached: from };
    const runs = runsOf(deleted);
    const { endingAt, startingAt } = neighbourKeys(runs);
    // A range whose signature does not hold is left as it is, for verification to report: merged, it would
    // be signed anew, and a row written into the database by hand would come out vouched for.
    const existing = (await selectAdjacentRanges(tx, organizationId, endingAt, startingAt)).filter((range) => this.mayMergeInto(organizationId, range));
    const { write, replace } = mergeRuns(runs, existing);
    const purgedAt = new Date().toISOString();
    await replaceRanges(
      tx,
      organizationId,
      replace,
      write.map((range) => {
        return { ...range, purged_at: purgedAt, ...(this.signer?.signRange(rangeStatement(organizationId, { ...range, purged_at: purgedAt })) ?? { key_id: null, signature: null }) };
      }),
    );
    await decrementStored(tx, organizationId, deleted.length);
    // JS dates hold milliseconds, the database microseconds (and drivers may round either way): a
    // millisecond of slack never skips a row and only re-reads a few.
    return { kind: 'purged', count: deleted.length, reached: new Date(reached.getTime() - 1) };
  }

  private mayMergeInto(organizationId: string, range: StoredPurgedRange): boolean {
    if (this.signer === undefined) return true;
    return this.signer.rangeSignatureValid({ ...rangeStatement(organizationId, range), key_id: range.key_id, signature: range.signature });
  }

  private async now(): Promise<Date> {
    const rows = await this.db.query<{ now: Date }>('select now() as now');
    return rows[0]?.now ?? new Date();
  }
}
