import type { Logger } from 'pino';
import type { Db } from '../db/db.js';
import type { GinMergeMetrics } from '../metrics/metrics.js';
import type { AppendSignal } from '../query/append-signal.js';
import { cleanGinPendingLists, setGinPendingListLimit } from './ingest.sql.js';
import { errorCode } from '../shared/error-code.js';

/**
 * How often, at most, the pending lists are emptied while events are being appended, and the pending-list
 * limit set on the indexes so that inserts leave the merging to the cleaner. Merging a bigger list costs
 * less per entry (each merge decodes and re-encodes the posting list of every key it touches), but a
 * search also reads the part not merged yet. Single-event bench, two runs each: every 100 ms under
 * PostgreSQL's 4 MB limit, 3,977 and 3,937 events/s, p99 28.8 and 31.5 ms, PostgreSQL at 97-100% CPU;
 * every 100 ms under 16 MB, 3,707 and 4,141 events/s, 94-97%; every 250 ms under 16 MB, 4,366 and 3,629
 * events/s, p99 27.1 and 34.0 ms, 82-84%. Before the limit was raised, every 250 ms left some merges to
 * inserts (p99 31-61 ms). A search reads the unmerged part too: about 250 ms of appends (not measured
 * separately; the bench's q searches run without concurrent ingest).
 */
export const GIN_CLEAN_INTERVAL_MS = 250;
export const GIN_PENDING_LIST_LIMIT_KB = 16 * 1024;

/**
 * Empties the pending lists of the events' GIN indexes (search text, tags) in the background, on
 * PostgreSQL, while events are being appended (by any process: it listens to the append signal, so the
 * append path itself does nothing for it).
 *
 * Why: a GIN index with fastupdate (the default, and much cheaper per insert: turning it off cut
 * single-event ingest to a third) queues new entries in a pending list, and the insert that finds the list
 * over gin_pending_list_limit merges it into the index inside its own statement — with the appender's
 * group commit waiting behind it. Autovacuum would do it otherwise, but an insert-only table is vacuumed
 * rarely (and not at all where autovacuum is off). Merging on another connection, under a limit raised
 * out of the inserts' way, keeps commits short (see GIN_CLEAN_INTERVAL_MS for what it buys and costs).
 *
 * PGlite has one connection: a merge there stalls ingest wherever it runs, so this is PostgreSQL only.
 */
export class GinPendingCleaner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private appended = false;
  private disabled = false;
  private unsubscribe: (() => void) | undefined;
  /** After a failure, no merge before this time (exponential backoff with jitter). */
  private pausedUntil = 0;
  private failures = 0;
  private limitsRaised = false;
  private nextRaiseAt = 0;

  private readonly intervalMs: number;
  private readonly raiseRetryMs: number;
  private readonly metrics: GinMergeMetrics | undefined;

  constructor(
    private readonly db: Db,
    private readonly signal: Pick<AppendSignal, 'subscribeAll'>,
    private readonly logger: Logger,
    options: { intervalMs?: number; raiseRetryMs?: number; metrics?: GinMergeMetrics } = {},
  ) {
    this.intervalMs = options.intervalMs ?? GIN_CLEAN_INTERVAL_MS;
    this.raiseRetryMs = options.raiseRetryMs ?? RAISE_RETRY_MS;
    this.metrics = options.metrics;
  }

  /** Merges every intervalMs while appends happen (PostgreSQL only; a no-op on PGlite). */
  async start(): Promise<void> {
    if (this.db.kind !== 'postgres' || this.timer !== undefined) return;
    await this.raiseLimits();
    if (this.disabled) return;
    this.unsubscribe = await this.signal.subscribeAll(() => {
      this.appended = true;
    });
    this.timer = setInterval(() => {
      if (!this.appended || this.running !== undefined || this.disabled || Date.now() < this.pausedUntil) return;
      this.appended = false;
      this.running = this.raiseLimitsWhenDue()
        .then(() => (this.disabled ? 0 : this.cleanOnce()))
        .then(() => undefined)
        .finally(() => {
          this.running = undefined;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  /**
   * Raises the pending-list limits so that inserts do not merge while the cleaner runs. A role that may
   * not alter the indexes may not merge them either: the cleaner turns off. Busy indexes or other
   * failures leave the old limits (merging still helps under them) until a later try.
   */
  private async raiseLimits(): Promise<void> {
    this.nextRaiseAt = Date.now() + this.raiseRetryMs;
    try {
      this.limitsRaised = await setGinPendingListLimit(this.db, GIN_PENDING_LIST_LIMIT_KB, RAISE_LOCK_TIMEOUT_MS);
    } catch (error) {
      if (errorCode(error) === INSUFFICIENT_PRIVILEGE) {
        this.disableForPrivileges(error);
        return;
      }
      this.logger.warn({ err: error }, 'could not raise the GIN pending-list limits; trying again later');
    }
  }

  private async raiseLimitsWhenDue(): Promise<void> {
    if (!this.limitsRaised && Date.now() >= this.nextRaiseAt) await this.raiseLimits();
  }

  /** Whether the limits are raised (false until an ALTER found the indexes free, or on PGlite). */
  get limitsAreRaised(): boolean {
    return this.limitsRaised;
  }

  private disableForPrivileges(error: unknown): void {
    // Only the index's owner may merge or alter it: a deployment whose runtime role does not own the
    // tables keeps PostgreSQL's own behaviour (inserts merge), and says so once.
    this.disabled = true;
    this.logger.warn({ err: error }, 'the database role does not own the events indexes: GIN pending lists are left to inserts to merge');
  }

  /** Stops merging; waits for a merge in flight. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Merges both pending lists now; answers the pending-list pages removed (0 when it could not). */
  async cleanOnce(): Promise<number> {
    try {
      const pages = await cleanGinPendingLists(this.db);
      this.failures = 0;
      this.metrics?.countGinMerge('merged', pages);
      return pages;
    } catch (error) {
      this.metrics?.countGinMerge('failed', 0);
      if (errorCode(error) === INSUFFICIENT_PRIVILEGE) {
        this.disableForPrivileges(error);
        return 0;
      }
      // A restart, failover or lost connection: try again later, not in a tight loop. Inserts merge if
      // the list reaches GIN_PENDING_LIST_LIMIT_KB meanwhile.
      this.failures += 1;
      const delay = Math.min(MAX_BACKOFF_MS, this.intervalMs * 2 ** this.failures) * (0.5 + Math.random() / 2);
      this.pausedUntil = Date.now() + delay;
      this.logger.warn({ err: error, retryInMs: Math.round(delay) }, 'merging GIN pending lists failed');
      return 0;
    }
  }

  /** False once merging is off for good (the role does not own the indexes). */
  get enabled(): boolean {
    return !this.disabled;
  }
}

const INSUFFICIENT_PRIVILEGE = '42501';
/** How long raising the limits waits for the indexes' lock, and how long until it tries again. */
const RAISE_LOCK_TIMEOUT_MS = 200;
const RAISE_RETRY_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
