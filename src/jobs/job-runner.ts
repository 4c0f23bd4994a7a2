import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Db } from '../db/db.js';
import { newId } from '../shared/ids.js';
import { ThrottledWarning } from '../shared/throttled-warning.js';
import { claimJobs, failJob, finishJob, insertJob, insertRecurringJob, releaseEveryRunningJob, renewJobLease, rescheduleJob, type JobRow } from './jobs.sql.js';

export type JobHandler = (payload: unknown, job: { id: string }) => Promise<void>;

export interface JobRunnerOptions {
  concurrency?: number;
  pollMs?: number;
  leaseSeconds?: number;
  /** A one-off job that keeps failing is given up after this many attempts. */
  maxAttempts?: number;
}

/**
 * The few background jobs (exports, retention purge, usage roll-up, checkpoints) on one table with leases:
 * any worker process may run a due job; one that dies mid-job leaves it to be taken again when its lease
 * expires. Recurring jobs have a fixed id ("recurring:<kind>"), so however many processes schedule them,
 * one row exists and one run happens per interval.
 */
export class JobRunner {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly recurring = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly options: Required<JobRunnerOptions>;
  /** Fails on every poll while the database is down: one line a minute, not one a second. */
  private readonly claimFailed: ThrottledWarning;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    options: JobRunnerOptions = {},
  ) {
    this.options = { concurrency: 2, pollMs: 1_000, leaseSeconds: 120, maxAttempts: 5, ...options };
    this.claimFailed = new ThrottledWarning(logger, 'claiming jobs failed');
  }

  register(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
  }

  /**
   * Runs `kind` every `everyMs`: first right away, and from a start with a row already scheduled (by an
   * earlier process) no later than `everyMs` from then, so a shortened interval applies at once.
   */
  schedule(kind: string, everyMs: number): void {
    this.recurring.set(kind, everyMs);
  }

  async enqueue(kind: string, payload: unknown, options: { id?: string; runAt?: Date } = {}): Promise<string> {
    const id = options.id ?? `job_${newId('request').slice('req_'.length)}`;
    await insertJob(this.db, { id, kind, payload, runAt: options.runAt ?? new Date() });
    if (!this.stopping && this.timer !== undefined) setImmediate(() => void this.poll());
    return id;
  }

  async start(): Promise<void> {
    if (this.db.kind === 'pglite') {
      // PGlite's data directory is locked by one process, this one: a running job found now belongs to a
      // process that died, and its export or purge would otherwise wait out that process's lease.
      await releaseEveryRunningJob(this.db, this.options.maxAttempts).catch((error: unknown) => this.logger.warn({ err: error }, 'releasing jobs left running by a previous process failed; their leases expire on their own'));
    }
    for (const [kind, every] of this.recurring) {
      const now = Date.now();
      await insertRecurringJob(this.db, { id: recurringId(kind), kind, runAt: new Date(now), latest: new Date(now + every) });
    }
    const loop = (): void => {
      this.timer = setTimeout(() => {
        void this.poll().finally(() => {
          if (!this.stopping) loop();
        });
      }, this.options.pollMs);
      this.timer.unref();
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.running]);
  }

  /** Runs every job that is due now and waits for them (tests, and `POST /admin/...` "run now" routes). */
  async runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const jobs = await this.claim(this.options.concurrency);
      if (jobs.length === 0) return total;
      total += jobs.length;
      await Promise.all(jobs.map((job) => this.run(job)));
    }
  }

  private async poll(): Promise<void> {
    const free = this.options.concurrency - this.running.size;
    if (free <= 0 || this.stopping) return;
    let jobs: JobRow[];
    try {
      jobs = await this.claim(free);
      this.claimFailed.succeeded();
    } catch (error) {
      this.claimFailed.warn(error);
      return;
    }
    for (const job of jobs) {
      const run = this.run(job).finally(() => this.running.delete(run));
      this.running.add(run);
    }
  }

  private claim(limit: number): Promise<JobRow[]> {
    const kinds = [...this.handlers.keys()];
    if (kinds.length === 0) return Promise.resolve([]);
    return this.db.transaction((tx) => claimJobs(tx, this.owner, kinds, this.options.leaseSeconds, limit));
  }

  /** Runs one claimed job. Never throws: failures are recorded on the job and logged with its id. */
  private async run(job: JobRow): Promise<void> {
    const handler = this.handlers.get(job.kind);
    const renew = setInterval(() => void renewJobLease(this.db, job.id, this.owner, this.options.leaseSeconds).catch(() => undefined), (this.options.leaseSeconds * 1000) / 3);
    renew.unref();
    try {
      if (handler === undefined) throw new Error(`no handler for job kind '${job.kind}'`);
      await handler(job.payload, { id: job.id });
      const every = this.recurring.get(job.kind);
      if (job.id === recurringId(job.kind) && every !== undefined) {
        await rescheduleJob(this.db, job.id, this.owner, new Date(Date.now() + every), null, true);
      } else {
        await finishJob(this.db, job.id, this.owner);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.logger.error({ err: error, jobId: job.id, kind: job.kind, attempt: job.attempts }, 'job failed');
      const recurring = job.id === recurringId(job.kind);
      if (!recurring && job.attempts >= this.options.maxAttempts) {
        await failJob(this.db, job.id, this.owner, message).catch(() => undefined);
      } else {
        const delay = Math.min(3_600_000, 1_000 * 2 ** job.attempts) * (0.5 + Math.random() / 2);
        await rescheduleJob(this.db, job.id, this.owner, new Date(Date.now() + delay), message, false).catch(() => undefined);
      }
    } finally {
      clearInterval(renew);
    }
  }
}

function recurringId(kind: string): string {
  return `recurring:${kind}`;
}
