import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { JobRunner } from '../../src/jobs/job-runner.js';
import { ADMIN_KEY, makeEvent, testConfig } from '../helpers/app.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { ScriptedReceiver } from './receiver.js';

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A process killed with -9 leaves its leases behind (60 s for streams, 120 s for jobs) in the data directory. */
describe('after a crash on PGlite, a restart frees the dead process leases at once', () => {
  let testDb: TestDb;
  beforeEach(async () => {
    testDb = await createTestDb('pglite');
  });
  afterEach(async () => {
    await testDb.drop();
  });

  it('log streams: a lease left by another owner is released at start and delivery resumes', async () => {
    const receiver = await new ScriptedReceiver().start();
    const config = testConfig({ VERITY_ALLOW_PRIVATE_DESTINATIONS: 'true' });
    const secretKey = randomBytes(32);
    try {
      // The "previous process": creates the stream and takes events, then dies holding the stream's lease.
      const before = await buildApp({ config, db: testDb.db, secretKey, worker: false });
      await before.services.keys.ensureBootstrapKey(ADMIN_KEY);
      const call = async <T>(app: typeof before, method: 'POST', url: string, body: unknown): Promise<T> => {
        const response = await app.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
        return JSON.parse(response.body) as T;
      };
      const org = await call<{ id: string }>(before, 'POST', '/organizations', { name: 'Crash' });
      const stream = await call<{ id: string }>(before, 'POST', '/log_streams', { organization_id: org.id, type: 'GenericHttps', config: { url: receiver.url } });
      const { ids } = await call<{ ids: string[] }>(before, 'POST', '/audit_logs/events/batch', { organization_id: org.id, events: [makeEvent(), makeEvent()] });
      await testDb.db.query(`update log_streams set lease_owner = 'dead-host:4242:0000', lease_until = now() + interval '60 seconds' where id = $1`, [stream.id]);
      await before.app.close();

      const after = await buildApp({ config, db: testDb.db, secretKey, worker: true });
      try {
        await until(() => new Set(receiver.eventIds()).size >= 2, 5_000, 'the events were not delivered');
        expect(receiver.firstArrivals()).toEqual(ids);
      } finally {
        await after.app.close();
      }
    } finally {
      await receiver.close();
    }
  });

  it('jobs: a job left running by another owner is taken again at start', async () => {
    await testDb.db.query(
      `insert into jobs (id, kind, payload, state, run_at, lease_owner, lease_until, attempts)
       values ('job_crashed', 'export', '{}'::jsonb, 'running', now(), 'dead-host:4242:0000', now() + interval '120 seconds', 1)`,
    );
    const runner = new JobRunner(testDb.db, pino({ level: 'silent' }), { pollMs: 25 });
    const ran: string[] = [];
    runner.register('export', async (_payload, job) => {
      ran.push(job.id);
    });
    await runner.start();
    try {
      await until(() => ran.length > 0, 5_000, 'the job did not run');
      expect(ran).toEqual(['job_crashed']);
      expect(await testDb.db.query<{ state: string }>(`select state from jobs where id = 'job_crashed'`)).toEqual([{ state: 'done' }]);
    } finally {
      await runner.stop();
    }
  });

  it('jobs: one that was running at each of its last five process deaths is given up, not run again', async () => {
    await testDb.db.query(
      `insert into jobs (id, kind, payload, state, run_at, lease_owner, lease_until, attempts)
       values ('job_killer', 'export', '{}'::jsonb, 'running', now(), 'dead-host:4242:0000', now() + interval '120 seconds', 5)`,
    );
    const runner = new JobRunner(testDb.db, pino({ level: 'silent' }), { pollMs: 25, maxAttempts: 5 });
    const ran: string[] = [];
    runner.register('export', async (_payload, job) => {
      ran.push(job.id);
    });
    await runner.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(ran).toEqual([]);
      const [row] = await testDb.db.query<{ state: string; last_error: string }>(`select state, last_error from jobs where id = 'job_killer'`);
      expect(row).toEqual({ state: 'failed', last_error: 'given up: the process running it stopped 5 times while it ran' });
    } finally {
      await runner.stop();
    }
  });
});
