import type { Logger } from 'pino';
import type { Db, Queryable } from '../db/db.js';
import { AppError, coerceError } from '../errors/app-error.js';
import { deleteExpired, insertRecords } from '../idempotency/idempotency.sql.js';
import type { IdempotencyClaim, StoredResponse } from '../idempotency/idempotency.service.js';
import type { IngestMetrics } from '../metrics/metrics.js';
import { chainHashOfCanonical } from './hash.js';
import { countIngested, insertEvents, lockHeads, notifyAppended, updateHeads, type EventRecord, type HeadRow } from './ingest.sql.js';
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
 * Group commit. Requests queue here while a transaction is in flight; the next transaction takes all of
 * them, so many concurrent requests share one commit (and one fsync on PostgreSQL). Each organization's
 * head row is locked for the append, which keeps sequence numbers gap-free and committed in order across
 * processes.
 */
export class LogAppender {
  private queue: Pending[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly metrics?: IngestMetrics,
  ) {}

  append(request: AppendRequest): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...request, resolve, reject });
      this.draining ??= this.drain().finally(() => {
        this.draining = undefined;
      });
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
      await this.commitIsolating(group);
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

  /** A failing group is retried one request at a time, so one bad request cannot fail its neighbours. */
  private async commitIsolating(group: Pending[]): Promise<void> {
    try {
      const outcomes = await this.commit(group);
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

  private async commit(group: Pending[]): Promise<(AppendOutcome | AppError)[]> {
    const started = performance.now();
    const outcomes: (AppendOutcome | undefined)[] = [];
    await this.db.transaction(async (tx) => {
      const organizationIds = [...new Set(group.map((pending) => pending.organizationId))].sort();
      const heads = new Map((await lockHeads(tx, organizationIds)).map((head) => [head.organization_id, head]));
      const taken = await this.claimKeys(tx, group.map((pending) => (heads.has(pending.organizationId) ? pending : undefined)));
      const records: EventRecord[] = [];
      const moved = new Map<string, HeadRow>();
      group.forEach((pending, index) => {
        const head = moved.get(pending.organizationId) ?? heads.get(pending.organizationId);
        if (head === undefined) return;
        if (!taken[index]) {
          outcomes[index] = { kind: 'repeat' };
          return;
        }
        let { seq, hash } = head;
        const seqs: number[] = [];
        for (const prepared of pending.events) {
          const prevHash = hash;
          seq += 1;
          hash = chainHashOfCanonical(prevHash, prepared.canonical);
          seqs.push(seq);
          records.push(toRecord(prepared, seq, prevHash, hash));
        }
        moved.set(pending.organizationId, { organization_id: pending.organizationId, seq, hash });
        outcomes[index] = { kind: 'appended', seqs };
      });
      if (records.length > 0) {
        await insertEvents(tx, records);
        const newHeads = [...moved.values()].map((head) => ({
          ...head,
          appended: head.seq - (heads.get(head.organization_id) as HeadRow).seq,
        }));
        await updateHeads(tx, newHeads);
        await countIngested(tx, newHeads);
        await notifyAppended(tx, newHeads);
      }
    });
    this.metrics?.observeGroup(group.length, outcomes.reduce((n, o) => n + (o?.kind === 'appended' ? o.seqs.length : 0), 0), (performance.now() - started) / 1000);
    // An unknown organization fails its own request only.
    return group.map(
      (pending, index) => outcomes[index] ?? new AppError('not_found', `Organization not found: '${pending.organizationId}'.`),
    );
  }

  /**
   * Writes idempotency records in the commit (undefined entries are requests that will fail and claim
   * nothing); returns, per request, whether its key was free.
   */
  private async claimKeys(tx: Queryable, group: (Pending | undefined)[]): Promise<boolean[]> {
    const claims = group.flatMap((pending) => (pending?.idempotency ? [pending.idempotency] : []));
    if (claims.length === 0) return group.map(() => true);
    await deleteExpired(tx, claims.map((c) => c.claim.scope), claims.map((c) => c.claim.key));
    const inserted = await insertRecords(
      tx,
      claims.map(({ claim, response }) => ({
        scope: claim.scope,
        key: claim.key,
        request_hash: claim.requestHash,
        state: 'done' as const,
        response_status: response.status,
        response_body: response.body,
      })),
    );
    // Two requests with one key in the same group: only the first occurrence was inserted.
    const free = new Set(inserted.map((row) => `${row.scope}\n${row.key}`));
    return group.map((pending) => {
      if (!pending?.idempotency) return true;
      const id = `${pending.idempotency.claim.scope}\n${pending.idempotency.claim.key}`;
      return free.delete(id);
    });
  }
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
