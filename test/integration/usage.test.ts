import { expect, it } from 'vitest';
import { describeEachBackend, makeEvent, type TestApp } from '../helpers/app.js';

interface Bill {
  organization_id: string;
  name: string;
  events_stored: number;
  events_stored_avg: number;
  events_ingested: number;
  siem_connections: number;
  event_units: number;
  siem_cost: number;
  retention_cost: number;
  total_cost: number;
}

interface Usage {
  object: string;
  month: string;
  prices: { siem_connection_monthly: number; per_million_events_monthly: number; currency: string };
  organizations: Bill[];
  totals: Omit<Bill, 'organization_id' | 'name'>;
}

let streamCounter = 0;

async function addStream(ctx: TestApp, orgId: string, createdAt: string, deletedAt: string | null, type = 'Datadog'): Promise<void> {
  streamCounter += 1;
  await ctx.testDb.db.query(
    `insert into log_streams (id, organization_id, type, config, state, cursor_seq, created_at, deleted_at)
     values ($1, $2, $3, '{}'::jsonb, 'active', 0, $4::timestamptz, $5::timestamptz)`,
    [`als_usagetest${streamCounter}${Math.random().toString(36).slice(2, 8)}`, orgId, type, createdAt, deletedAt],
  );
}

async function addDay(ctx: TestApp, orgId: string, day: string, stored: number | null, ingested = 0): Promise<void> {
  await ctx.testDb.db.query(
    `insert into usage_daily (organization_id, day, events_stored, events_ingested, measured_at)
     values ($1, $2::date, $3, $4, case when $5::boolean then now() else null end)`,
    [orgId, day, stored ?? 0, ingested, stored !== null],
  );
}

/** An organization created (as the database believes) at `createdAt`. */
async function orgCreatedAt(ctx: TestApp, name: string, createdAt: string): Promise<string> {
  const id = await ctx.createOrg(name);
  await ctx.testDb.db.query('update organizations set created_at = $2::timestamptz where id = $1', [id, createdAt]);
  return id;
}

describeEachBackend('usage metering and pricing', (ctx) => {
  it('prices a past month from seeded daily rows and stream lifetimes', async () => {
    const org = await orgCreatedAt(ctx(), 'Initech', '2026-10-15T12:00:00Z');
    // October 2026 has 31 days; the organization counts from the 15th: 17 days.
    for (let d = 15; d <= 20; d += 1) await addDay(ctx(), org, `2026-10-${d}`, 1_000_000, 100);
    // The 21st has a row only because of ingest (never measured): it carries 1 M.
    await addDay(ctx(), org, '2026-10-21', null, 50);
    for (let d = 22; d <= 31; d += 1) await addDay(ctx(), org, `2026-10-${d}`, 2_500_000);
    // Rows outside the month do not count.
    await addDay(ctx(), org, '2026-11-01', 9_000_000, 7);
    // 12 days (20th–31st) + 3 days (16th–18th) + 0 (deleted at the month's first instant) = 15 stream-days.
    await addStream(ctx(), org, '2026-10-20T10:00:00Z', null);
    await addStream(ctx(), org, '2026-10-16T23:59:00Z', '2026-10-18T01:00:00Z', 'Splunk');
    await addStream(ctx(), org, '2026-09-01T00:00:00Z', '2026-10-01T00:00:00Z');

    const response = await ctx().call<Usage>('GET', `/usage?month=2026-10&organization_id=${org}`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    // (6 × 1 M + 1 M + 10 × 2.5 M) / 17 = 1,882,352.94 → 2 units → 198.00; 15 × 125 / 31 = 60.48.
    const expected: Bill = {
      organization_id: org,
      name: 'Initech',
      events_stored: 2_500_000,
      events_stored_avg: 1_882_352.94,
      events_ingested: 650,
      siem_connections: 0.4839,
      event_units: 2,
      siem_cost: 60.48,
      retention_cost: 198,
      total_cost: 258.48,
    };
    expect(response.body).toEqual({
      object: 'usage',
      month: '2026-10',
      prices: { siem_connection_monthly: 125, per_million_events_monthly: 99, currency: 'USD' },
      organizations: [expected],
      totals: {
        events_stored: 2_500_000,
        events_stored_avg: 1_882_352.94,
        events_ingested: 650,
        siem_connections: 0.4839,
        event_units: 2,
        siem_cost: 60.48,
        retention_cost: 198,
        total_cost: 258.48,
      },
    });

    // Before the organization existed: not on the bill.
    expect((await ctx().call<Usage>('GET', `/usage?month=2026-09&organization_id=${org}`)).body.organizations).toEqual([]);
  });

  it('bills the current month to date, with today at the live counter, and rolls usage up as a job', async () => {
    const org = await ctx().createOrg('Today Inc');
    const batch = await ctx().call('POST', '/audit_logs/events/batch', {
      body: { organization_id: org, events: [makeEvent(), makeEvent(), makeEvent()] },
    });
    expect(batch.status).toBe(200);
    await addStream(ctx(), org, new Date().toISOString(), null, 'HTTPS');

    const usage = await ctx().call<Usage>('GET', `/usage?organization_id=${org}`);
    expect(usage.status).toBe(200);
    expect(usage.body.month).toBe(new Date().toISOString().slice(0, 7));
    const daysInMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 0)).getUTCDate();
    // One stream, created today: one stream-day so far.
    const streams = 1;
    expect(usage.body.organizations).toEqual([
      {
        organization_id: org,
        name: 'Today Inc',
        events_stored: 3,
        events_stored_avg: 3,
        events_ingested: 3,
        siem_connections: Math.round((streams / daysInMonth) * 10_000) / 10_000,
        event_units: 1,
        siem_cost: Math.round((streams * 12_500) / daysInMonth) / 100,
        retention_cost: 99,
        total_cost: (Math.round((streams * 12_500) / daysInMonth) + 9_900) / 100,
      },
    ]);

    await ctx().services.jobs.enqueue('usage.rollup', {});
    await ctx().services.jobs.runDue();
    const [row] = await ctx().testDb.db.query<{ events_stored: number; events_ingested: number; measured: boolean; streams: Record<string, number> }>(
      `select events_stored, events_ingested, measured_at is not null as measured, streams from usage_daily
       where organization_id = $1 and day = (now() at time zone 'utc')::date`,
      [org],
    );
    expect(row).toEqual({ events_stored: 3, events_ingested: 3, measured: true, streams: { HTTPS: 1 } });
  });

  it('lists every organization with totals for an unrestricted key, in id order', async () => {
    const a = await orgCreatedAt(ctx(), 'Alpha', '2026-06-01T00:00:00Z');
    const b = await orgCreatedAt(ctx(), 'Beta', '2026-06-10T00:00:00Z');
    await addDay(ctx(), a, '2026-06-01', 1_000_000);
    await addDay(ctx(), b, '2026-06-10', 3_000_000);
    await addStream(ctx(), b, '2026-05-01T00:00:00Z', null);
    const usage = await ctx().call<Usage>('GET', '/usage?month=2026-06');
    expect(usage.status).toBe(200);
    const ids = usage.body.organizations.map((o) => o.organization_id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining([a, b]));
    expect(usage.body.organizations.find((o) => o.organization_id === a)).toMatchObject({ events_stored_avg: 1_000_000, event_units: 1, siem_cost: 0, total_cost: 99 });
    // Beta: 21 days (10th–30th) at 3 M; its stream is billed for those 21 days: 21 × 125 / 30 = 87.50.
    expect(usage.body.organizations.find((o) => o.organization_id === b)).toMatchObject({ events_stored_avg: 3_000_000, event_units: 3, siem_connections: 0.7, siem_cost: 87.5, total_cost: 384.5 });
    const sum = usage.body.organizations.reduce((total, o) => total + Math.round(o.total_cost * 100), 0);
    expect(Math.round(usage.body.totals.total_cost * 100)).toBe(sum);
  });

  it('restricted keys see only their organization; admin scope is required', async () => {
    const a = await ctx().createOrg('Mine');
    const b = await ctx().createOrg('Theirs');
    const adminA = await ctx().createKey(['admin'], a);

    const own = await ctx().call<Usage>('GET', '/usage', { key: adminA });
    expect(own.status).toBe(200);
    expect(own.body.organizations.map((o) => o.organization_id)).toEqual([a]);
    expect(JSON.stringify(own.body)).not.toContain(b);
    expect((await ctx().call<Usage>('GET', `/usage?organization_id=${a}`, { key: adminA })).body.organizations.map((o) => o.organization_id)).toEqual([a]);

    const toB = await ctx().call('GET', `/usage?organization_id=${b}`, { key: adminA });
    const ghost = await ctx().call('GET', '/usage?organization_id=org_01GHZZZZZZZZZZZZZZZZZZZZZZ', { key: adminA });
    expect(toB.status).toBe(404);
    expect(ghost.status).toBe(404);
    expect(JSON.stringify(toB.body).replace(b, '{org}')).toBe(JSON.stringify(ghost.body).replace('org_01GHZZZZZZZZZZZZZZZZZZZZZZ', '{org}'));

    expect((await ctx().call('GET', '/usage', { key: await ctx().createKey(['events:read', 'events:write'], a) })).status).toBe(403);
    expect((await ctx().call('GET', '/usage', { key: await ctx().createKey(['events:read']) })).status).toBe(403);
    expect((await ctx().call('GET', '/usage', { key: null })).status).toBe(401);
    expect((await ctx().call('GET', '/usage?organization_id=org_01GHZZZZZZZZZZZZZZZZZZZZZZ')).status).toBe(404);
  });

  it('refuses a malformed month', async () => {
    for (const month of ['2026-13', '2026-1', 'November', '2026-00']) {
      const response = await ctx().call('GET', `/usage?month=${month}`);
      expect(response.status, month).toBe(422);
    }
  });
});
