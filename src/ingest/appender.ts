import type { Logger } from 'pino';
import type { Db, Queryable } from '../db/db.js';
import { AppError, coerceError } from '../errors/app-error.js';
import { deleteExpired, insertRecords, type NewIdempotencyRecord } from '../idempotency/idempotency.sql.js';
import type { IdempotencyClaim, StoredResponse } from '../idempotency/idempotency.service.js';
import type { IngestMetrics } from '../metrics/metrics.js';
import { chainHashOfCanonical } from './hash.js';
import {
  appendAtKnownHeads,
  appendLocked,
  isStaleAppend,
  lockHeads,
  type EventRecord,
  type HeadMove,
  type HeadRow,
} from './ingest.sql.js';
import type { PreparedEvent } from './prepare.js';

/** One request's events: appended all together or not at all. */
export interface AppendRequest {
  organizationId: string;
  events: readonly PreparedEvent[];
  /** When set, the idempotency record is written in the same transaction as the events. */
  idempotency?: { claim: IdempotencyClaim; response: StoredResponse } | undefined;
}

export type AppendOutcome =
  | { kind: 'appended'; seqs: number[] }
  /** The idempotency key was already taken: the caller answers from the stored record. */
  | { kind: 'repeat' };

interface Pending extends AppendRequest {
  resolve(outcome: AppendOutcome): void;
  reject(error: Error): void;
}

// Upper bound on one group: large enough to amortise a commit, small enough to keep a transaction short.
const MAX_GROUP_EVENTS = 5_000;

/**
 * Group commit. Requests queue here while an append is in flight; the next append takes all of them, so
 * many concurrent requests share one commit (and one fsync on PostgreSQL).
 *
 * Each organization's log stays gap-free and chained because an append only applies on top of the exact
 * head (seq and hash) it was computed from. The fast path chains onto the head this process last wrote and
 * sends one statement, which fails as a whole if the head is elsewhere. The slow path, for the first append
 * of an organization or after a failure, locks the head rows, reads them and appends in a transaction; it
 * is also what keeps several processes appending to one organization correct.
 */
export class LogAppender {
  private queue: Pending[] = [];
  /** Each organization's head as this process last read or wrote it: what the fast path chains onto. */
  private readonly heads = new Map<string, HeadRow>();
  private draining: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly metrics?: IngestMetrics,
  ) {}

  append(request: AppendRequest): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...request, resolve, reject });
      this.startDraining();
    });
  }

  private startDraining(): void {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      // A request queued between the loop's last look and now must not wait for the next one to arrive.
      if (this.queue.length > 0) this.startDraining();
    });
  }

  /** Resolves once everything queued so far is committed or failed (used by graceful shutdown). */
  async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  private async drain(): Promise<void> {
    // Let requests that arrive in the same tick join the first group.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const group = this.takeGroup();
      if (!(await this.appendAtKnownHeads(group))) await this.commitIsolating(group);
    }
  }

  private takeGroup(): Pending[] {
    let events = 0;
    let count = 0;
    while (count < this.queue.length) {
      const size = (this.queue[count] as Pending).events.length;
      if (count > 0 && events + size > MAX_GROUP_EVENTS) break;
      events += size;
      count += 1;
    }
    return this.queue.splice(0, count);
  }

  /**
   * The fast path, taken when this process knows every head of the group (always so on PGlite, whose
   * directory one process holds; usually so on PostgreSQL). Answers false, having written nothing, when
   * the group must go through the slow path: a head it does not know or that moved, a taken key, a deleted
   * organization, a lost connection; the slow path then gives each request its real outcome.
   */
  private async appendAtKnownHeads(group: Pending[]): Promise<boolean> {
    if (!group.every((pending) => this.heads.has(pending.organizationId))) return false;
    const started = performance.now();
    const { records, moves, outcomes } = chain(group, this.heads, () => true);
    const claims = group.flatMap((pending) => (pending.idempotency ? [claimRecord(pending.idempotency)] : []));
    try {
      await appendAtKnownHeads(this.db, records, moves, claims);
    } catch (error) {
      if (!isStaleAppend(error)) this.logger.warn({ err: error }, 'one-statement append failed; retrying under row locks');
      this.metrics?.countLockedRetry();
      for (const move of moves) this.heads.delete(move.organization_id);
      return false;
    }
    this.remember(moves);
    this.observe(group, outcomes, started);
    group.forEach((pending, index) => pending.resolve(outcomes[index] as AppendOutcome));
    return true;
  }

  /** A failing group is retried one request at a time, so one bad request cannot fail its neighbours. */
  private async commitIsolating(group: Pending[]): Promise<void> {
    try {
      const outcomes = await this.commitLocked(group);
      group.forEach((pending, index) => {
        const outcome = outcomes[index] as AppendOutcome | AppError;
        if (outcome instanceof AppError) pending.reject(outcome);
        else pending.resolve(outcome);
      });
    } catch (error) {
      if (group.length === 1) {
        (group[0] as Pending).reject(coerceError(error));
        return;
      }
      this.logger.warn({ err: error, requests: group.length }, 'group commit failed; retrying requests one by one');
      for (const pending of group) await this.commitIsolating([pending]);
    }
  }

  /** The slow path: lock the heads, read them, then append in one transaction; also learns the heads. */
  private async commitLocked(group: Pending[]): Promise<(AppendOutcome | AppError)[]> {
    const started = performance.now();
    const organizationIds = [...new Set(group.map((pending) => pending.organizationId))].sort();
    const { outcomes, moves, heads } = await this.db.transaction(async (tx) => {
      const locked = new Map((await lockHeads(tx, organizationIds)).map((head) => [head.organization_id, head]));
      const taken = await this.claimKeys(tx, group.map((pending) => (locked.has(pending.organizationId) ? pending : undefined)));
      const chained = chain(group, locked, (index) => taken[index] === true);
      if (chained.records.length > 0) await appendLocked(tx, chained.records, chained.moves);
      return { ...chained, heads: locked };
    });
    for (const head of heads.values()) this.heads.set(head.organization_id, head);
    this.remember(moves);
    this.observe(group, outcomes, started);
    // An unknown organization fails its own request only.
    return group.map(
      (pending, index) => outcomes[index] ?? new AppError('not_found', `Organization not found: '${pending.organizationId}'.`),
    );
  }

  private remember(moves: readonly HeadMove[]): void {
    for (const { organization_id, seq, hash } of moves) this.heads.set(organization_id, { organization_id, seq, hash });
  }

  private observe(group: readonly Pending[], outcomes: readonly (AppendOutcome | undefined)[], started: number): void {
    const events = outcomes.reduce((n, o) => n + (o?.kind === 'appended' ? o.seqs.length : 0), 0);
    this.metrics?.observeGroup(group.length, events, (performance.now() - started) / 1000);
  }

  /**
   * Writes idempotency records in the commit (undefined entries are requests that will fail and claim
   * nothing); returns, per request, whether its key was free.
   */
  private async claimKeys(tx: Queryable, group: (Pending | undefined)[]): Promise<boolean[]> {
    const claims = group.flatMap((pending) => (pending?.idempotency ? [pending.idempotency] : []));
    if (claims.length === 0) return group.map(() => true);
    await deleteExpired(tx, claims.map((c) => c.claim.scope), claims.map((c) => c.claim.key));
    const inserted = await insertRecords(tx, claims.map(claimRecord));
    // Two requests with one key in the same group: only the first occurrence was inserted.
    const free = new Set(inserted.map((row) => `${row.scope}\n${row.key}`));
    return group.map((pending) => {
      if (!pending?.idempotency) return true;
      const id = `${pending.idempotency.claim.scope}\n${pending.idempotency.claim.key}`;
      return free.delete(id);
    });
  }
}

interface Chained {
  records: EventRecord[];
  moves: HeadMove[];
  outcomes: (AppendOutcome | undefined)[];
}

/**
 * Chains the group's events onto the given heads, in order: the requests of unknown organizations, and
 * those whose idempotency key was taken (`isFree` false), get no outcome / a repeat and no events.
 */
function chain(
  group: readonly AppendRequest[],
  heads: ReadonlyMap<string, HeadRow>,
  isFree: (index: number) => boolean,
): Chained {
  const records: EventRecord[] = [];
  const moved = new Map<string, HeadMove>();
  const outcomes: (AppendOutcome | undefined)[] = [];
  group.forEach((request, index) => {
    const start = heads.get(request.organizationId);
    if (start === undefined) return;
    if (!isFree(index)) {
      outcomes[index] = { kind: 'repeat' };
      return;
    }
    const head = moved.get(request.organizationId) ?? { ...start, from_seq: start.seq, from_hash: start.hash };
    let { seq, hash } = head;
    const seqs: number[] = [];
    for (const prepared of request.events) {
      const prevHash = hash;
      seq += 1;
      hash = chainHashOfCanonical(prevHash, prepared.canonical);
      seqs.push(seq);
      records.push(toRecord(prepared, seq, prevHash, hash));
    }
    moved.set(request.organizationId, { ...head, seq, hash });
    outcomes[index] = { kind: 'appended', seqs };
  });
  return { records, moves: [...moved.values()], outcomes };
}

function claimRecord({ claim, response }: { claim: IdempotencyClaim; response: StoredResponse }): NewIdempotencyRecord {
  return {
    scope: claim.scope,
    key: claim.key,
    request_hash: claim.requestHash,
    state: 'done',
    response_status: response.status,
    response_body: response.body,
  };
}

function toRecord(prepared: PreparedEvent, seq: number, prevHash: string, hash: string): EventRecord {
  const { event } = prepared;
  return {
    organization_id: event.organization_id,
    seq,
    id: event.id,
    occurred_at: event.occurred_at,
    action: event.action,
    actor_id: event.actor.id,
    actor_name: event.actor.name ?? null,
    tags: prepared.tags,
    search_text: prepared.searchText,
    data: event,
    prev_hash: prevHash,
    hash,
  };
}
