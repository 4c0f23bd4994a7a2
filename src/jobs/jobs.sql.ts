import type { Queryable } from '../db/db.js';

export interface JobRow {
  id: string;
  kind: string;
  payload: unknown;
  attempts: number;
}

export async function insertJob(db: Queryable, job: { id: string; kind: string; payload: unknown; runAt: Date }): Promise<void> {
  await db.query(
    `insert into jobs (id, kind, payload, run_at) values ($1, $2, $3::jsonb, $4::timestamptz)
     on conflict (id) do nothing`,
    [job.id, job.kind, JSON.stringify(job.payload ?? {}), job.runAt.toISOString()],
  );
}

/**
 * Creates a recurring job's one row, due at `runAt`, or brings an existing row's next run forward to
 * `latest` at the latest: a row scheduled under a longer interval (before a restart that shortened it)
 * would otherwise keep its old, later run_at, and the new interval would wait for it.
 */
export async function insertRecurringJob(db: Queryable, job: { id: string; kind: string; runAt: Date; latest: Date }): Promise<void> {
  await db.query(
    `insert into jobs (id, kind, payload, run_at) values ($1, $2, '{}'::jsonb, $3::timestamptz)
     on conflict (id) do update set run_at = $4::timestamptz, updated_at = now() where jobs.run_at > $4::timestamptz`,
    [job.id, job.kind, job.runAt.toISOString(), job.latest.toISOString()],
  );
}

/** Leases due jobs of the given kinds; a running job whose lease expired (dead worker) is due again. */
export async function claimJobs(tx: Queryable, owner: string, kinds: readonly string[], leaseSeconds: number, limit: number): Promise<JobRow[]> {
  return tx.query<JobRow>(
    `update jobs j set state = 'running', lease_owner = $1, lease_until = now() + make_interval(secs => $3),
       attempts = attempts + 1, updated_at = now()
     where j.id in (
       select id from jobs
       where kind = any($2::text[]) and run_at <= now()
         and (state = 'pending' or (state = 'running' and lease_until < now()))
       order by run_at limit $4
       for update skip locked)
     returning j.id, j.kind, j.payload, j.attempts`,
    [owner, kinds, leaseSeconds, limit],
  );
}

export async function finishJob(db: Queryable, id: string, owner: string): Promise<void> {
  await db.query(`update jobs set state = 'done', lease_owner = null, lease_until = null, last_error = null, updated_at = now() where id = $1 and lease_owner = $2`, [id, owner]);
}

/** Puts a job back for a later run: recurring jobs after success, failed ones after a backoff. */
export async function rescheduleJob(db: Queryable, id: string, owner: string, runAt: Date, error: string | null, resetAttempts: boolean): Promise<void> {
  await db.query(
    `update jobs set state = 'pending', run_at = $3::timestamptz, lease_owner = null, lease_until = null, last_error = $4,
       attempts = case when $5::boolean then 0 else attempts end, updated_at = now()
     where id = $1 and lease_owner = $2`,
    [id, owner, runAt.toISOString(), error, resetAttempts],
  );
}

export async function failJob(db: Queryable, id: string, owner: string, error: string): Promise<void> {
  await db.query(`update jobs set state = 'failed', lease_owner = null, lease_until = null, last_error = $3, updated_at = now() where id = $1 and lease_owner = $2`, [id, owner, error]);
}

export async function renewJobLease(db: Queryable, id: string, owner: string, leaseSeconds: number): Promise<void> {
  await db.query(`update jobs set lease_until = now() + make_interval(secs => $3) where id = $1 and lease_owner = $2`, [id, owner, leaseSeconds]);
}

/**
 * Makes every running job pending again, whoever leased it: only for a start that knows no other worker can
 * be alive (PGlite), so the job is taken at once instead of after the dead process's lease. A one-off job
 * that has been running at `maxAttempts` process deaths is failed instead: it may be what kills the process
 * (an export running out of memory), and would otherwise be retried at every start, for ever.
 */
export async function releaseEveryRunningJob(db: Queryable, maxAttempts: number): Promise<void> {
  await db.query(
    `update jobs set lease_owner = null, lease_until = null, updated_at = now(),
       state = case when id not like 'recurring:%' and attempts >= $1 then 'failed' else 'pending' end,
       last_error = case when id not like 'recurring:%' and attempts >= $1
         then 'given up: the process running it stopped ' || attempts || ' times while it ran' else last_error end
     where state = 'running'`,
    [maxAttempts],
  );
}
