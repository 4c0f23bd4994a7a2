import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../db/db.js';
import { AppError } from '../errors/app-error.js';
import type { JobRunner } from '../jobs/job-runner.js';
import { assertOrganizationAccess, requireScope } from '../keys/access.js';
import type { Principal } from '../keys/keys.service.js';
import { verifyStoredChain, type ChainVerification } from './chain.js';
import { signCheckpoint, type CheckpointView } from './checkpoint.js';
import type { NdjsonWritten } from '../export/export.format.js';
import { checkpointView, integrityTrailer } from './export-trailer.js';
import { signExportStatement } from './export-statement.js';
import { purgedRangeSignatureValid, rangeStatement, signPurgedRange, type PurgedRangeStatement, type RangeSignature } from './range-signature.js';
import type { RangeSigner } from '../retention/retention.service.js';
import type { IntegrityView, PublicKeyView, VerificationView } from './integrity.schema.js';
import {
  claimBackfill,
  countEventsBetween,
  finishBackfill,
  insertCheckpoint,
  selectAnchor,
  selectCheckpointAt,
  selectCheckpointCandidates,
  selectEventHash,
  selectHead,
  selectRecentCheckpoints,
  selectUnsignedRanges,
  updateRangeSignature,
} from './integrity.sql.js';
import type { SigningKey, VerificationKey } from './signing-key.js';

/** Signs every organization whose head moved since its last checkpoint (recurring, every interval). */
export const CHECKPOINT_JOB_KIND = 'integrity.checkpoint';
/** Signs organizations with at least `everyEvents` new events (recurring, every CHECKPOINT_DUE_POLL_MS). */
export const CHECKPOINT_DUE_JOB_KIND = 'integrity.checkpoint_due';
/**
 * How often the event-count rule is checked. It is one indexed query over the heads, so the ingest path
 * stays untouched and "every N events" is honoured within this delay.
 */
export const CHECKPOINT_DUE_POLL_MS = 30_000;

const RECENT_CHECKPOINTS = 10;

export interface IntegrityOptions {
  checkpointEveryEvents: number;
  checkpointIntervalMinutes: number;
  /** Keys that signed before a rotation: what they signed still verifies (config.retiredPublicKeys). */
  retiredKeys?: readonly VerificationKey[];
  logger?: Logger | undefined;
}

/** The shape of an export the NDJSON trailer needs (src/export passes its own richer objects). */
export interface TrailerSubject {
  organization_id: string;
  /** Null for an export the CLI writes straight from the database. */
  id: string | null;
  filters: object;
}

/** The backfill that signs purged ranges recorded before ranges were signed (migration 0012): once per database. */
const LEGACY_RANGES_BACKFILL = 'purged_range_signatures';

export class IntegrityService implements RangeSigner {
  // A verification already walking an organization's chain is shared by whoever else asks meanwhile:
  // the walk is the expensive part and its answer is the same.
  private readonly walks = new Map<string, Promise<VerificationView>>();
  /** The retired keys, then the current one: what verifies stored checkpoints and purged ranges, by key id. */
  private readonly verificationKeys: ReadonlyMap<string, KeyObject>;
  private readonly retiredKeys: readonly VerificationKey[];

  constructor(
    private readonly db: Db,
    private readonly key: SigningKey,
    private readonly options: IntegrityOptions,
  ) {
    this.retiredKeys = (options.retiredKeys ?? []).filter((retired) => retired.keyId !== key.keyId);
    this.verificationKeys = new Map([...this.retiredKeys, key].map((known) => [known.keyId, known.publicKey]));
  }

  publicKey(): PublicKeyView {
    return {
      object: 'integrity_public_key',
      key_id: this.key.keyId,
      algorithm: 'Ed25519',
      public_key_pem: this.key.publicKeyPem,
      public_key_base64: this.key.publicKeyBase64,
      retired_keys: this.retiredKeys.map((retired) => ({ key_id: retired.keyId, public_key_pem: retired.publicKeyPem, public_key_base64: retired.publicKeyBase64 })),
    };
  }

  async get(principal: Principal, organizationId: string, verify: boolean): Promise<IntegrityView> {
    requireScope(principal, 'events:read');
    assertOrganizationAccess(principal, organizationId);
    const head = await selectHead(this.db, organizationId);
    if (head === undefined) throw new AppError('not_found', `Organization not found: '${organizationId}'.`);
    const [anchor, recent] = await Promise.all([selectAnchor(this.db, organizationId), selectRecentCheckpoints(this.db, organizationId, RECENT_CHECKPOINTS)]);
    const view: IntegrityView = {
      object: 'audit_log_integrity',
      organization_id: organizationId,
      head: { seq: head.seq, hash: head.hash },
      anchor: anchor === undefined ? null : { seq: anchor.last_seq, hash: anchor.last_hash },
      recent_checkpoints: recent.map(checkpointView),
      public_key: { key_id: this.key.keyId, public_key_pem: this.key.publicKeyPem },
    };
    if (verify) view.verification = await this.verify(organizationId);
    return view;
  }

  /** Re-walks the stored chain and checks every stored checkpoint against it, with the current and retired keys. */
  verify(organizationId: string): Promise<VerificationView> {
    const running = this.walks.get(organizationId);
    if (running !== undefined) return running;
    const started = performance.now();
    const walk = verifyStoredChain(this.db, organizationId, { checkpointKeys: this.verificationKeys })
      .then((result) => toVerificationView(result, performance.now() - started))
      .finally(() => this.walks.delete(organizationId));
    this.walks.set(organizationId, walk);
    return walk;
  }

  /**
   * Signs and stores a checkpoint of the head of every organization that has at least `minEvents` events
   * since its last checkpoint (1: any new event). Returns what was signed.
   */
  async checkpointHeads(minEvents = 1): Promise<CheckpointView[]> {
    const signed: CheckpointView[] = [];
    for (const candidate of await selectCheckpointCandidates(this.db, minEvents)) {
      const checkpoint = await this.store(candidate.organization_id, candidate.seq, candidate.hash);
      if (checkpoint !== undefined) signed.push(checkpoint);
    }
    if (signed.length > 0) this.options.logger?.info({ organizations: signed.length, minEvents }, 'signed integrity checkpoints');
    return signed;
  }

  /**
   * A checkpoint at exactly `seq` (an existing event), signed now if none exists: what an export needs to
   * prove completeness up to its last event. Undefined when the event is gone (purged meanwhile).
   */
  async checkpointAt(organizationId: string, seq: number): Promise<CheckpointView | undefined> {
    const existing = await selectCheckpointAt(this.db, organizationId, seq);
    if (existing !== undefined) return checkpointView(existing);
    const hash = await selectEventHash(this.db, organizationId, seq);
    if (hash === undefined) return undefined;
    return (await this.store(organizationId, seq, hash)) ?? checkpointView((await selectCheckpointAt(this.db, organizationId, seq)) ?? failMissing(organizationId, seq));
  }

  /**
   * The NDJSON export trailer (plugs into the export writer's `trailer` hook): signs a checkpoint at the
   * export's last event, yields integrityTrailer's lines (purged runs and checkpoints), then the signed
   * export statement over everything written before it — stating the export complete for its seq span when
   * it holds every stored event of that span (a count over the primary key). An export with no events still
   * gets its statement, so an empty result is provably the server's answer to its filters.
   */
  async *exportTrailer(subject: TrailerSubject, written: NdjsonWritten): AsyncGenerator<Record<string, unknown>> {
    const { firstSeq, lastSeq } = written;
    let complete = true;
    if (firstSeq !== null && lastSeq !== null) {
      await this.checkpointAt(subject.organization_id, lastSeq);
      complete = (await countEventsBetween(this.db, subject.organization_id, firstSeq, lastSeq)) === written.rows;
      yield* integrityTrailer(this.db, subject.organization_id, firstSeq, lastSeq);
    }
    const statement = signExportStatement(this.key, {
      object: 'audit_log_export_statement',
      organization_id: subject.organization_id,
      export_id: subject.id,
      // A plain JSON copy: the signed bytes are its canonical JSON, which the verifier rebuilds from the line.
      filters: JSON.parse(JSON.stringify(subject.filters)) as Record<string, unknown>,
      events: written.rows,
      first_seq: firstSeq,
      last_seq: lastSeq,
      complete,
      lines_sha256: written.linesSha256(),
      created_at: new Date().toISOString(),
    });
    yield { ...statement };
  }

  /** Signs a purged range as the retention purge writes it (RangeSigner). */
  signRange(statement: PurgedRangeStatement): RangeSignature {
    return signPurgedRange(this.key, statement);
  }

  /**
   * Whether a stored range is signed by this server's current key (RangeSigner: only such ranges are merged
   * into). Not a retired key's: merging would sign with the current key what only the retired key vouched
   * for, and keys are often retired because they leaked; the purge writes an adjacent range instead.
   */
  rangeSignatureValid(statement: PurgedRangeStatement & { key_id: string | null; signature: string | null }): boolean {
    if (statement.key_id !== this.key.keyId || statement.signature === null) return false;
    return purgedRangeSignatureValid(this.key.publicKey, { ...statement, signature: statement.signature });
  }

  /**
   * Signs the purged ranges recorded before ranges were signed, once per database (a marker row records
   * that it ran, in the same transaction, so concurrent starts do it once). Answers how many it signed.
   * After this, a range without a signature can only have been written into the database by hand.
   */
  async signLegacyRanges(): Promise<number> {
    const signed = await this.db.transaction(async (tx) => {
      if (!(await claimBackfill(tx, LEGACY_RANGES_BACKFILL))) return 0;
      const rows = await selectUnsignedRanges(tx);
      for (const row of rows) {
        await updateRangeSignature(tx, row.organization_id, row.first_seq, this.signRange(rangeStatement(row.organization_id, row)));
      }
      await finishBackfill(tx, LEGACY_RANGES_BACKFILL, rows.length);
      return rows.length;
    });
    if (signed > 0) this.options.logger?.info({ ranges: signed }, 'signed purged ranges recorded before ranges were signed');
    return signed;
  }

  /** Registers the two recurring checkpoint jobs; they run wherever the job runner runs (worker role). */
  registerJobs(jobs: JobRunner): void {
    jobs.register(CHECKPOINT_JOB_KIND, async () => {
      await this.checkpointHeads(1);
    });
    jobs.register(CHECKPOINT_DUE_JOB_KIND, async () => {
      await this.checkpointHeads(this.options.checkpointEveryEvents);
    });
    const intervalMs = this.options.checkpointIntervalMinutes * 60_000;
    jobs.schedule(CHECKPOINT_JOB_KIND, intervalMs);
    jobs.schedule(CHECKPOINT_DUE_JOB_KIND, Math.min(CHECKPOINT_DUE_POLL_MS, intervalMs));
  }

  private async store(organizationId: string, seq: number, hash: string): Promise<CheckpointView | undefined> {
    // Milliseconds only: the statement is signed over this exact ISO string, and timestamptz keeps it exactly.
    const createdAt = new Date();
    const checkpoint = signCheckpoint(this.key, { organization_id: organizationId, seq, hash, created_at: createdAt.toISOString() });
    const inserted = await insertCheckpoint(this.db, {
      organization_id: organizationId,
      seq,
      hash,
      created_at: createdAt,
      key_id: checkpoint.key_id,
      signature: checkpoint.signature,
    });
    return inserted ? checkpoint : undefined;
  }
}

function failMissing(organizationId: string, seq: number): never {
  throw new Error(`checkpoint for ${organizationId} at seq ${seq} was neither inserted nor found`);
}

function toVerificationView(result: ChainVerification, durationMs: number): VerificationView {
  const view: VerificationView = {
    valid: result.valid,
    checked: result.checked,
    verified_head: result.head,
    checkpoints_checked: result.checkpoints_checked ?? 0,
    checkpoints_unverifiable: result.checkpoints_unverifiable ?? 0,
    duration_ms: Math.round(durationMs),
  };
  if (result.first_bad_seq !== undefined) view.first_bad_seq = result.first_bad_seq;
  if (result.reason !== undefined) view.reason = result.reason;
  return view;
}
