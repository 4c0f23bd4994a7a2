import { expect, it } from 'vitest';
import { describeEachBackend, makeEvent, type TestApp } from '../helpers/app.js';
import { DATADOG_FAKE_API_KEY, startDatadogIntake } from '../fakes/datadog-intake.js';
import { SPLUNK_FAKE_TOKEN, startSplunkHec } from '../fakes/splunk-hec.js';
import { ScriptedReceiver } from './receiver.js';

type Stream = { id: string; state: string; state_reason: string | null; stats: { lag_events: number; cursor_seq: number } };

async function ingest(ctx: TestApp, org: string, count: number): Promise<string[]> {
  const events = Array.from({ length: count }, (_, i) => makeEvent({ actor: { id: `u${i}`, type: 'user' }, metadata: { padding: 'x'.repeat(300) } }));
  return (await ctx.call<{ ids: string[] }>('POST', '/audit_logs/events/batch', { body: { organization_id: org, events } })).body.ids;
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describeEachBackend(
  'dispatcher with real destination protocols',
  (ctx) => {
    it('Splunk code 6: keeps what HEC indexed and resends from the rejected event on', async () => {
      const hec = await startSplunkHec();
      try {
        const org = await ctx().createOrg();
        const stream = (await ctx().call<Stream>('POST', '/log_streams', {
          body: { organization_id: org, type: 'Splunk', config: { hec_url: hec.url, hec_token: SPLUNK_FAKE_TOKEN } },
        })).body;
        const ids = await ingest(ctx(), org, 10);
        hec.rejectEventIds.add(ids[6] as string);
        await until(async () => (await ctx().call<Stream>('GET', `/log_streams/${stream.id}`)).body.state === 'error');
        const failing = (await ctx().call<Stream>('GET', `/log_streams/${stream.id}`)).body;
        expect(failing.stats.cursor_seq).toBe(6);
        expect(failing.state_reason).toContain('6');
        hec.rejectEventIds.clear();
        await until(() => hec.received.length >= 10);
        expect(hec.received.map((envelope) => (envelope.event as { id: string }).id)).toEqual(ids);
      } finally {
        await hec.close();
      }
    });

    it('Splunk: a backlog of several requests goes out in byte-cut batches, each within the budget, every event once and in order', async () => {
      const hec = await startSplunkHec();
      try {
        const org = await ctx().createOrg();
        // ~4 kB per event: about 210 fit one 900 kB request, so 500 make three requests, and the rows each
        // read holds past its cut are carried into the next batch (some batches need no read at all).
        const metadata = Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`pad${k}`, String(k).repeat(500)]));
        const events = Array.from({ length: 500 }, (_, i) => makeEvent({ actor: { id: `u${i}`, type: 'user' }, metadata }));
        const ids = (await ctx().call<{ ids: string[] }>('POST', '/audit_logs/events/batch', { body: { organization_id: org, events } })).body.ids;
        await ctx().call('POST', '/log_streams', {
          body: { organization_id: org, type: 'Splunk', config: { hec_url: hec.url, hec_token: SPLUNK_FAKE_TOKEN }, start_from: 'beginning' },
        });
        await until(() => hec.received.length >= 500);
        expect(hec.received.map((envelope) => (envelope.event as { id: string }).id)).toEqual(ids);
        expect(hec.requests.length).toBeGreaterThanOrEqual(3);
        for (const request of hec.requests) expect(Buffer.byteLength(request.body)).toBeLessThanOrEqual(900_000);
      } finally {
        await hec.close();
      }
    });

    it('Datadog 413: halves the batch until the intake takes it', async () => {
      const intake = await startDatadogIntake({ maxBytes: 40_000 });
      try {
        const org = await ctx().createOrg();
        await ctx().call('POST', '/log_streams', {
          body: { organization_id: org, type: 'Datadog', config: { site: 'US1', api_key: DATADOG_FAKE_API_KEY, endpoint_url: intake.url } },
        });
        const ids = await ingest(ctx(), org, 200);
        await until(() => intake.received.length >= 200);
        expect(intake.received.map((item) => (item.message as { id: string }).id)).toEqual(ids);
        expect(intake.requests.some((request) => request.status === 413)).toBe(true);
      } finally {
        await intake.close();
      }
    });

    it('treats a receiver slower than the timeout as transient and delivers once it answers in time', async () => {
      const receiver = await new ScriptedReceiver().start();
      try {
        receiver.respond({ status: 200, delayMs: 1_500 });
        const org = await ctx().createOrg();
        const stream = (await ctx().call<Stream>('POST', '/log_streams', { body: { organization_id: org, type: 'GenericHttps', config: { url: receiver.url } } })).body;
        const ids = await ingest(ctx(), org, 3);
        await until(async () => (await ctx().call<Stream>('GET', `/log_streams/${stream.id}`)).body.state === 'error');
        await receiver.waitFor(3);
        expect(receiver.firstArrivals()).toEqual(ids);
      } finally {
        await receiver.close();
      }
    });
  },
  { VERITY_TEST_WORKER: 'true', VERITY_ALLOW_PRIVATE_DESTINATIONS: 'true', VERITY_STREAM_REQUEST_TIMEOUT_MS: '500' },
);

describeEachBackend('stream metrics', (ctx) => {
  it('exports per-stream lag in events and seconds, read at scrape time', async () => {
    const org = await ctx().createOrg();
    const created = await ctx().call<{ id: string }>('POST', '/log_streams', {
      body: { organization_id: org, type: 'GenericHttps', config: { url: 'https://siem.example.com/hook' }, start_from: 'beginning' },
    });
    await ingest(ctx(), org, 3);
    const scrape = (await ctx().app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(scrape).toMatch(new RegExp(`verity_stream_lag_events\\{stream_id="${created.body.id}",type="GenericHttps"\\} 3`));
    expect(scrape).toMatch(new RegExp(`verity_stream_lag_seconds\\{stream_id="${created.body.id}",type="GenericHttps"\\} \\d`));
  });
});
