import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../helpers/chain.js';
import { ADMIN_KEY, makeEvent } from '../helpers/app.js';
import { createTestDb, postgresAvailability, type TestDb } from '../helpers/db.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';

const { available, reason } = postgresAvailability();

async function post(url: string, path: string, body: unknown): Promise<number> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

describe.skipIf(!available)(`two server processes on one PostgreSQL${available ? '' : ` — skipped: ${reason ?? ''}`}`, () => {
  let testDb: TestDb;
  let servers: ServerProcess[] = [];

  beforeAll(async () => {
    testDb = await createTestDb('postgres');
    const env = { DATABASE_URL: testDb.url ?? '', VERITY_BOOTSTRAP_API_KEY: ADMIN_KEY, VERITY_SECRET_KEY: 'a'.repeat(64), VERITY_RATE_LIMIT_PER_MINUTE: '0' };
    // Started together: both run migrations at once, which the advisory lock must serialise.
    servers = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await testDb?.drop();
  });

  it('keeps one organization’s log gap-free and chained under 50 clients spread over both', async () => {
    const org = await fetch(`${servers[0]?.url}/organizations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Shared' }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const perClient = 10;
    const statuses = await Promise.all(
      Array.from({ length: 50 }, async (_, client) => {
        const url = servers[client % 2]?.url ?? '';
        const results: number[] = [];
        for (let i = 0; i < perClient; i += 1) results.push(await post(url, '/audit_logs/events', { organization_id: org.id, event: makeEvent() }));
        return results;
      }),
    );
    expect(statuses.flat().filter((status) => status !== 200)).toEqual([]);
    const rows = await testDb.db.query<{ seq: number }>('select seq from events where organization_id = $1 order by seq', [org.id]);
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(await verifyChain(testDb.db, org.id)).toEqual({ valid: true, checked: 500 });
  }, 60_000);

  it('drains in-flight requests on SIGTERM: every acknowledged event is stored', async () => {
    const org = await fetch(`${servers[1]?.url}/organizations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Draining' }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const target = servers[1] as ServerProcess;
    const inflight = Array.from({ length: 200 }, () =>
      post(target.url, '/audit_logs/events/batch', { organization_id: org.id, events: [makeEvent(), makeEvent()] }).catch(() => 0),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const exitCode = await target.stop('SIGTERM');
    const statuses = await Promise.all(inflight);
    expect(exitCode).toBe(0);
    const acknowledged = statuses.filter((status) => status === 200).length;
    expect(acknowledged).toBeGreaterThan(0);
    const rows = await testDb.db.query<{ n: number }>('select count(*)::int8 as n from events where organization_id = $1', [org.id]);
    // Refused requests (503 while closing, or connection refused) stored nothing; acknowledged ones are all there.
    expect(rows[0]?.n).toBe(acknowledged * 2);
    expect(await verifyChain(testDb.db, org.id)).toMatchObject({ valid: true });
  }, 60_000);
});
