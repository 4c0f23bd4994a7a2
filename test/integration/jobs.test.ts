import { pino } from 'pino';
import { expect, it } from 'vitest';
import { JobRunner } from '../../src/jobs/job-runner.js';
import { describeEachBackend } from '../helpers/app.js';

const silent = pino({ level: 'silent' });

describeEachBackend('job runner', (ctx) => {
  it('runs due jobs once, with their payload', async () => {
    const runner = new JobRunner(ctx().testDb.db, silent);
    const seen: unknown[] = [];
    runner.register('test.echo', async (payload) => {
      seen.push(payload);
    });
    await runner.enqueue('test.echo', { n: 1 });
    await runner.enqueue('test.echo', { n: 2 }, { runAt: new Date(Date.now() + 60_000) });
    expect(await runner.runDue()).toBe(1);
    expect(seen).toEqual([{ n: 1 }]);
    expect(await runner.runDue()).toBe(0);
  });

  it('retries a failing job later and records the error', async () => {
    const runner = new JobRunner(ctx().testDb.db, silent);
    runner.register('test.flaky', async () => {
      throw new Error('destination unreachable');
    });
    const id = await runner.enqueue('test.flaky', {});
    await runner.runDue();
    const [row] = await ctx().testDb.db.query<{ state: string; last_error: string; attempts: number; run_at: Date }>('select state, last_error, attempts, run_at from jobs where id = $1', [id]);
    expect(row).toMatchObject({ state: 'pending', last_error: 'destination unreachable', attempts: 1 });
    expect(row?.run_at.getTime()).toBeGreaterThan(Date.now());
  });

  it('takes over a job whose worker died (expired lease), and reschedules recurring jobs', async () => {
    const db = ctx().testDb.db;
    const id = await new JobRunner(db, silent).enqueue('test.orphan', {});
    await db.query(`update jobs set state = 'running', lease_owner = 'dead-worker', lease_until = now() - interval '1 second' where id = $1`, [id]);
    const runner = new JobRunner(db, silent);
    let runs = 0;
    runner.register('test.orphan', async () => {
      runs += 1;
    });
    runner.register('test.recurring', async () => {
      runs += 10;
    });
    runner.schedule('test.recurring', 60_000);
    await runner.start();
    await runner.runDue();
    await runner.stop();
    expect(runs).toBe(11);
    const [recurring] = await db.query<{ state: string; run_at: Date }>(`select state, run_at from jobs where id = 'recurring:test.recurring'`);
    expect(recurring?.state).toBe('pending');
    expect(recurring?.run_at.getTime()).toBeGreaterThan(Date.now() + 50_000);
  });

  it('brings a recurring job scheduled under a longer interval forward when started with a shorter one', async () => {
    const db = ctx().testDb.db;
    const runAt = async (): Promise<number> =>
      (await db.query<{ run_at: Date }>(`select run_at from jobs where id = 'recurring:test.interval'`))[0]?.run_at.getTime() ?? Number.NaN;
    const started = async (everyMs: number, run: boolean): Promise<void> => {
      const runner = new JobRunner(db, silent);
      runner.register('test.interval', async () => undefined);
      runner.schedule('test.interval', everyMs);
      await runner.start();
      if (run) await runner.runDue();
      await runner.stop();
    };
    // A day's interval: after its first run the next one is a day away.
    await started(86_400_000, true);
    expect(await runAt()).toBeGreaterThan(Date.now() + 86_000_000);
    // Restarted with five minutes: the next run is at most five minutes away, not a day.
    await started(300_000, false);
    const shortened = await runAt();
    expect(shortened).toBeLessThanOrEqual(Date.now() + 300_000);
    expect(shortened).toBeGreaterThan(Date.now() + 250_000);
    // A longer interval again does not push the run already due sooner further out.
    await started(86_400_000, false);
    expect(await runAt()).toBe(shortened);
  });
});
