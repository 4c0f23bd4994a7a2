import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachBackend, makeEvent, type TestApp } from '../helpers/app.js';
import { ScriptedReceiver } from './receiver.js';
import { waitForState } from './stream-api.js';

type Stream = { id: string; state: string; state_reason: string | null; stats: { cursor_seq: number; lag_events: number } };

/** Appends `count` events in batch requests of at most 1,000; answers their ids in log order. */
async function send(ctx: TestApp, org: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let sent = 0; sent < count; sent += 1000) {
    const events = Array.from({ length: Math.min(1000, count - sent) }, (_, i) => makeEvent({ actor: { id: `u${sent + i}`, type: 'user' } }));
    const response = await ctx.call<{ ids: string[] }>('POST', '/audit_logs/events/batch', { body: { organization_id: org, events } });
    expect(response.status).toBe(200);
    ids.push(...response.body.ids);
  }
  return ids;
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A change to a stream that is working through a backlog (GenericHttps sends at most 1,000 events a
 * request, so 2,500 events are three batches) takes effect after the batch in flight, not after the backlog.
 */
describeEachBackend(
  'log streams: pause, edit and replay during a backlog',
  (ctx) => {
    let receiver: ScriptedReceiver;
    let other: ScriptedReceiver;
    beforeEach(async () => {
      receiver = await new ScriptedReceiver().start();
      other = await new ScriptedReceiver().start();
    });
    afterEach(async () => {
      await receiver.close();
      await other.close();
    });

    const createStream = async (org: string): Promise<Stream> => {
      const response = await ctx().call<Stream>('POST', '/log_streams', {
        body: { organization_id: org, type: 'GenericHttps', name: 'SIEM', config: { url: receiver.url, headers: { authorization: 'Bearer old-token' } } },
      });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      return response.body;
    };

    it('a pause stops delivery after the batch in flight; resume delivers the rest, nothing lost', async () => {
      const org = await ctx().createOrg();
      const stream = await createStream(org);
      receiver.holdAnswers();
      const ids = await send(ctx(), org, 2500);
      await receiver.waitForOpenRequest();
      const paused = await ctx().call<Stream>('POST', `/log_streams/${stream.id}/pause`);
      expect(paused.body.state).toBe('inactive');
      receiver.releaseAnswers();
      await receiver.waitUntilIdle();
      await settle(1200);
      expect(receiver.requests).toHaveLength(1);
      expect((await ctx().call<Stream>('GET', `/log_streams/${stream.id}`)).body.state).toBe('inactive');

      await ctx().call('POST', `/log_streams/${stream.id}/resume`);
      await receiver.waitFor(ids.length);
      expect(receiver.firstArrivals()).toEqual(ids);
    });

    it('an edited URL is used from the next batch on: the old endpoint gets only the batch in flight', async () => {
      const org = await ctx().createOrg();
      const stream = await createStream(org);
      receiver.holdAnswers();
      const ids = await send(ctx(), org, 2500);
      await receiver.waitForOpenRequest();
      const patched = await ctx().call<Stream>('PATCH', `/log_streams/${stream.id}`, { body: { config: { url: other.url, headers: { authorization: 'Bearer new-token' } } } });
      expect(patched.status).toBe(200);
      receiver.releaseAnswers();
      await other.waitFor(ids.length - 1000);
      expect(receiver.requests).toHaveLength(1);
      expect([...receiver.eventIds(), ...other.eventIds()]).toEqual(ids);
      expect(receiver.requests[0]?.headers.authorization).toBe('Bearer old-token');
      expect(other.requests[0]?.headers.authorization).toBe('Bearer new-token');
    });

    it('a replay during a backlog starts again from its point, not where the batch in flight ended', async () => {
      const org = await ctx().createOrg();
      const stream = await createStream(org);
      receiver.holdAnswers();
      const ids = await send(ctx(), org, 2500);
      await receiver.waitForOpenRequest();
      expect((await ctx().call('POST', `/log_streams/${stream.id}/replay`, { body: { from: '2000-01-01T00:00:00Z' } })).status).toBe(200);
      receiver.releaseAnswers();
      await waitForState<Stream>(ctx(), stream.id, (s) => s.stats.lag_events === 0);
      const received = receiver.eventIds();
      // The batch in flight (the first 1,000), then everything again from the first event.
      expect(received.slice(0, 1000)).toEqual(ids.slice(0, 1000));
      expect(received.slice(1000)).toEqual(ids);
    });

    it('a config fixed while a refused batch is in flight is tried at once, not left invalid by the old key', async () => {
      const org = await ctx().createOrg();
      const stream = await createStream(org);
      receiver.respond({ status: 403, delayMs: 600 });
      const ids = await send(ctx(), org, 3);
      await receiver.waitForOpenRequest();
      const patched = await ctx().call<Stream>('PATCH', `/log_streams/${stream.id}`, { body: { config: { headers: { authorization: 'Bearer new-token' } } } });
      expect(patched.body.state).toBe('active');
      await receiver.waitFor(ids.length);
      expect(receiver.requests[0]?.headers.authorization).toBe('Bearer new-token');
      const synced = await waitForState<Stream>(ctx(), stream.id, (s) => s.stats.lag_events === 0);
      expect(synced).toMatchObject({ state: 'active', state_reason: null });
      // The refused attempt is still on record.
      const deliveries = await ctx().call<{ data: { outcome: string; http_status: number | null }[] }>('GET', `/log_streams/${stream.id}/deliveries`);
      expect(deliveries.body.data.some((d) => d.outcome === 'invalid' && d.http_status === 403)).toBe(true);
    });
  },
  { VERITY_TEST_WORKER: 'true', VERITY_ALLOW_PRIVATE_DESTINATIONS: 'true' },
);
