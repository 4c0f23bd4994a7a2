import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachBackend, makeEvent, type TestApp } from '../helpers/app.js';
import { ScriptedReceiver } from './receiver.js';
import { waitForState } from './stream-api.js';

type Stream = { id: string; state: string; state_reason: string | null; config: Record<string, unknown>; secrets_set: string[]; last_synced_at: string | null; stats: { cursor_seq: number; lag_events: number; delivered: number } };

async function send(ctx: TestApp, org: string, count: number, prefix = 'a'): Promise<string[]> {
  const events = Array.from({ length: count }, (_, i) => makeEvent({ actor: { id: `${prefix}${i}`, type: 'user' } }));
  const response = await ctx.call<{ ids: string[] }>('POST', '/audit_logs/events/batch', { body: { organization_id: org, events } });
  expect(response.status).toBe(200);
  return response.body.ids;
}

describeEachBackend(
  'log streams: GenericHttps end to end',
  (ctx) => {
    let receiver: ScriptedReceiver;
    beforeEach(async () => {
      receiver = await new ScriptedReceiver().start();
    });
    afterEach(async () => {
      await receiver.close();
    });

    const createStream = async (org: string, extra: Record<string, unknown> = {}, config: Record<string, unknown> = {}): Promise<Stream> => {
      const response = await ctx().call<Stream>('POST', '/log_streams', {
        body: { organization_id: org, type: 'GenericHttps', name: 'SIEM', config: { url: receiver.url, headers: { authorization: 'Bearer top-secret-token' }, ...config }, ...extra },
      });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      return response.body;
    };

    it('validates config per type with field-level errors, and never returns secrets', async () => {
      const org = await ctx().createOrg();
      const bad = await ctx().call<{ errors: { field: string; message: string }[] }>('POST', '/log_streams', { body: { organization_id: org, type: 'GenericHttps', config: { url: 'not a url', format: 'xml' } } });
      expect(bad.status).toBe(422);
      expect(bad.body.errors.map((e) => e.field)).toEqual(expect.arrayContaining(['config.url', 'config.format']));
      // One entry for a value outside the allowed list, naming what is allowed.
      expect(bad.body.errors.filter((e) => e.field === 'config.format')).toEqual([{ code: 'invalid', field: 'config.format', message: 'must be one of: json, ndjson' }]);
      const withCredentials = await ctx().call<{ errors: { field: string; message: string }[] }>('POST', '/log_streams', {
        body: { organization_id: org, type: 'GenericHttps', config: { url: 'https://user:hunter2@siem.example.com/hook' } },
      });
      expect(withCredentials.status).toBe(422);
      expect(withCredentials.body.errors.map((e) => e.field)).toEqual(['config.url']);
      expect(JSON.stringify(withCredentials.body)).not.toContain('hunter2');
      const badSite = await ctx().call<{ errors: unknown[] }>('POST', '/log_streams', { body: { organization_id: org, type: 'Datadog', config: { site: 'XX1', api_key: 'k' } } });
      expect(badSite.status).toBe(422);
      expect(badSite.body.errors).toEqual([{ code: 'invalid', field: 'config.site', message: 'must be one of: US1, US3, US5, EU1, AP1, AP2, UK1, US1-FED, US2-FED' }]);
      const unknownType = await ctx().call<{ errors: unknown[] }>('POST', '/log_streams', { body: { organization_id: org, type: 'Kafka', config: {} } });
      expect(unknownType.status).toBe(422);
      expect(unknownType.body.errors).toEqual([
        { code: 'invalid', field: 'type', message: 'must be one of: Datadog, Splunk, S3, GoogleCloudStorage, AzureSentinel, GenericHttps, Syslog' },
      ]);

      const stream = await createStream(org);
      expect(stream.secrets_set).toEqual(['headers']);
      expect(JSON.stringify(stream)).not.toContain('top-secret-token');
      const stored = await ctx().testDb.db.query<{ secrets: string; config: unknown }>('select secrets, config from log_streams where id = $1', [stream.id]);
      expect(JSON.stringify(stored)).not.toContain('top-secret-token');
      const listed = await ctx().call('GET', `/log_streams?organization_id=${org}`);
      expect(JSON.stringify(listed.body)).not.toContain('top-secret-token');
    });

    it('never sends a stored secret to a changed URL: a new URL or endpoint must come with the secrets again', async () => {
      const org = await ctx().createOrg();
      type Errors = { errors: { code: string; field: string; message: string }[] };
      const other = await new ScriptedReceiver().start();
      try {
        const stream = await createStream(org);
        const moved = await ctx().call<Errors>('PATCH', `/log_streams/${stream.id}`, { body: { config: { url: other.url } } });
        expect(moved.status).toBe(422);
        expect(moved.body.errors).toEqual([expect.objectContaining({ code: 'required', field: 'config.headers' })]);
        expect(moved.body.errors[0]?.message).toContain('url');
        // Nothing changed, and a test still goes to the URL the secret was given for.
        expect((await ctx().call<Stream & { config: { url: string } }>('GET', `/log_streams/${stream.id}`)).body.config.url).toBe(receiver.url);
        expect((await ctx().call('POST', `/log_streams/${stream.id}/test`)).status).toBe(200);
        expect(other.answered).toBe(0);
        // With the secret sent again, the move is made; a change elsewhere needs no secret.
        const resent = await ctx().call('PATCH', `/log_streams/${stream.id}`, { body: { config: { url: other.url, headers: { authorization: 'Bearer for-the-new-host' } } } });
        expect(resent.status, JSON.stringify(resent.body)).toBe(200);
        expect((await ctx().call('PATCH', `/log_streams/${stream.id}`, { body: { config: { format: 'ndjson' } } })).status).toBe(200);

        const splunk = await ctx().call<Stream>('POST', '/log_streams', {
          body: { organization_id: org, type: 'Splunk', config: { hec_url: 'https://splunk.example.com:8088', hec_token: 'vendor-hec-token' } },
        });
        expect(splunk.status).toBe(201);
        const redirected = await ctx().call<Errors>('PATCH', `/log_streams/${splunk.body.id}`, { body: { config: { hec_url: 'https://attacker.example.net:8088' } } });
        expect(redirected.status).toBe(422);
        expect(redirected.body.errors.map((e) => e.field)).toEqual(['config.hec_token']);
        expect((await ctx().call('PATCH', `/log_streams/${splunk.body.id}`, { body: { config: { index: 'audit' } } })).status).toBe(200);
      } finally {
        await other.close();
      }
    });

    it('removes an optional secret sent as null, and custom headers sent as {}', async () => {
      const org = await ctx().createOrg();
      const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
      const stream = await createStream(org, {}, { signing_secret: secret });
      expect(stream.secrets_set).toEqual(['headers', 'signing_secret']);
      const unsigned = await ctx().call<Stream>('PATCH', `/log_streams/${stream.id}`, { body: { config: { signing_secret: null } } });
      expect(unsigned.status, JSON.stringify(unsigned.body)).toBe(200);
      expect(unsigned.body.secrets_set).toEqual(['headers']);
      const bare = await ctx().call<Stream>('PATCH', `/log_streams/${stream.id}`, { body: { config: { headers: {} } } });
      expect(bare.body.secrets_set).toEqual([]);
      const createdBare = await ctx().call<Stream>('POST', '/log_streams', { body: { organization_id: org, type: 'GenericHttps', config: { url: receiver.url, headers: {} } } });
      expect(createdBare.body.secrets_set).toEqual([]);
      expect((await ctx().call('POST', `/log_streams/${stream.id}/test`)).status).toBe(200);
      const sent = receiver.requests[receiver.requests.length - 1];
      expect(sent?.headers['webhook-signature']).toBeUndefined();
      expect(sent?.headers.authorization).toBeUndefined();
      // A required field cannot be removed.
      expect((await ctx().call('PATCH', `/log_streams/${stream.id}`, { body: { config: { url: null } } })).status).toBe(422);
    });

    it('refuses custom headers no HTTP request can carry when the stream is saved, not at every delivery', async () => {
      const org = await ctx().createOrg();
      for (const headers of [{ Authorization: 'Bearer SECRETVAL-1\nX-Evil: 1' }, { 'Bad Header Name': 'SECRETVAL-2' }, { Host: 'SECRETVAL-3.example' }, { 'X-Key': 'SECRETVAL-4\u2603' }]) {
        const response = await ctx().call<{ errors: { field: string; message: string }[] }>('POST', '/log_streams', {
          body: { organization_id: org, type: 'GenericHttps', config: { url: receiver.url, headers } },
        });
        expect(response.status, JSON.stringify(headers)).toBe(422);
        expect(response.body.errors.map((e) => e.field)).toEqual(['config.headers']);
        expect(JSON.stringify(response.body)).not.toContain('SECRETVAL');
      }
    });

    it('refuses a Splunk raw endpoint and a signing secret outside 24–64 bytes, naming the field', async () => {
      const org = await ctx().createOrg();
      type Refusal = { errors: { field: string; message: string }[] };
      for (const hecUrl of ['https://splunk.example.com:8088/services/collector/raw', 'https://splunk.example.com:8088/raw/1.0/']) {
        const raw = await ctx().call<Refusal>('POST', '/log_streams', { body: { organization_id: org, type: 'Splunk', config: { hec_url: hecUrl, hec_token: 'token-1234' } } });
        expect(raw.status).toBe(422);
        expect(raw.body.errors).toEqual([{ code: 'invalid', field: 'config.hec_url', message: expect.stringContaining('event endpoint') as string }]);
      }
      const splunk = await ctx().call('POST', '/log_streams', { body: { organization_id: org, type: 'Splunk', config: { hec_url: 'https://splunk.example.com:8088/services/collector/event', hec_token: 'token-1234' } } });
      expect(splunk.status).toBe(201);

      const secret = (bytes: number): string => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`;
      for (const bytes of [65, 96]) {
        const long = await ctx().call<Refusal>('POST', '/log_streams', { body: { organization_id: org, type: 'GenericHttps', config: { url: receiver.url, signing_secret: secret(bytes) } } });
        expect(long.status).toBe(422);
        expect(long.body.errors).toEqual([{ code: 'invalid', field: 'config.signing_secret', message: expect.stringContaining('24–64 bytes') as string }]);
        expect(JSON.stringify(long.body)).not.toContain(secret(bytes).slice(6));
      }
      for (const bytes of [24, 64]) {
        const ok = await ctx().call('POST', '/log_streams', { body: { organization_id: org, type: 'GenericHttps', config: { url: receiver.url, signing_secret: secret(bytes) } } });
        expect(ok.status).toBe(201);
      }
    });

    it('delivers new events in order, exactly the events appended after creation, and records the attempts', async () => {
      const org = await ctx().createOrg();
      await send(ctx(), org, 3, 'before');
      const stream = await createStream(org);
      const ids = [...(await send(ctx(), org, 5)), ...(await send(ctx(), org, 5, 'b'))];
      await receiver.waitFor(10);
      expect(receiver.eventIds()).toEqual(ids);
      expect(receiver.requests[0]?.headers.authorization).toBe('Bearer top-secret-token');
      const synced = await waitForState<Stream>(ctx(), stream.id, (s) => s.stats.lag_events === 0 && s.last_synced_at !== null);
      expect(synced).toMatchObject({ state: 'active', stats: { cursor_seq: 13, delivered: 10 } });
      const deliveries = await ctx().call<{ data: { outcome: string; event_count: number; first_seq: number }[] }>('GET', `/log_streams/${stream.id}/deliveries`);
      expect(deliveries.body.data.every((d) => d.outcome === 'delivered')).toBe(true);
      expect(deliveries.body.data.reduce((n, d) => n + d.event_count, 0)).toBe(10);
      for (const cursor of ['after=abc', 'before=1.5', 'after=-3']) {
        const bad = await ctx().call('GET', `/log_streams/${stream.id}/deliveries?${cursor}`);
        expect(bad.status, cursor).toBe(400);
        expect(bad.body).toMatchObject({ code: 'invalid_query' });
      }
      const configuration = await ctx().call<{ log_stream: { id: string; type: string } }>('GET', `/organizations/${org}/audit_log_configuration`);
      expect(configuration.body.log_stream).toMatchObject({ id: stream.id, type: 'GenericHttps', state: 'active' });
    });

    it('backfills from the beginning or from a time', async () => {
      const org = await ctx().createOrg();
      const ids = await send(ctx(), org, 4);
      await createStream(org, { start_from: 'beginning' });
      await receiver.waitFor(4);
      expect(receiver.eventIds()).toEqual(ids);
    });

    it('counts as lag only the events still to deliver, not those retention purged', async () => {
      const org = await ctx().createOrg();
      const old = Array.from({ length: 3 }, (_, i) => makeEvent({ occurred_at: new Date(Date.now() - (400 + i) * 86_400_000).toISOString() }));
      expect((await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: org, events: old } })).status).toBe(200);
      await send(ctx(), org, 2);
      await ctx().call('PUT', `/organizations/${org}/audit_logs_retention`, { body: { retention_period_in_days: 30 } });
      expect((await ctx().call('POST', '/admin/retention/run')).status).toBe(200);
      // A 4xx stops the stream at its first batch, so its cursor stays before every event.
      receiver.respond({ status: 400 });
      const stream = await createStream(org, { start_from: 'beginning' });
      const stopped = await waitForState<Stream>(ctx(), stream.id, (s) => s.state === 'invalid');
      expect(stopped.stats).toMatchObject({ cursor_seq: 0, lag_events: 2 });
      // How long the oldest event still to deliver has waited: the first kept one, not the purged seq 1.
      const scrape = (await ctx().app.inject({ method: 'GET', url: '/metrics' })).body;
      const lagSeconds = new RegExp(`verity_stream_lag_seconds\\{stream_id="${stream.id}",type="GenericHttps"\\} ([\\d.e+-]+)`).exec(scrape)?.[1];
      expect(Number(lagSeconds)).toBeGreaterThan(0);
    });

    it('retries 5xx with backoff and loses nothing; 429 honours Retry-After', async () => {
      const org = await ctx().createOrg();
      receiver.respond({ status: 500 }, { status: 503 });
      const stream = await createStream(org);
      const ids = await send(ctx(), org, 3);
      const failing = await waitForState<Stream>(ctx(), stream.id, (s) => s.state === 'error');
      expect(failing.state_reason).toContain('HTTP 500');
      await receiver.waitFor(3);
      expect([...new Set(receiver.eventIds())]).toEqual(ids);
      await waitForState<Stream>(ctx(), stream.id, (s) => s.state === 'active' && s.stats.lag_events === 0);

      receiver.respond({ status: 429, retryAfter: '2' });
      const started = Date.now();
      await send(ctx(), org, 1, 'later');
      await receiver.waitFor(4);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    });

    it('Retry-After: 0 does not make a tight retry loop: the wait is at least the backoff', async () => {
      const org = await ctx().createOrg();
      receiver.respond(...Array.from({ length: 50 }, () => ({ status: 429, retryAfter: '0' })));
      const stream = await createStream(org);
      await send(ctx(), org, 1);
      await waitForState<Stream>(ctx(), stream.id, (s) => s.state === 'error');
      // The first retry waits 1–2 s (backoff after one failure); without the floor there were dozens by now.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(receiver.answered).toBe(1);
      await ctx().call('DELETE', `/log_streams/${stream.id}`);
    });

    it('marks a stream invalid on 401 and stops, until its config changes', async () => {
      const org = await ctx().createOrg();
      receiver.respond({ status: 401 });
      const stream = await createStream(org);
      const ids = await send(ctx(), org, 2);
      const invalid = await waitForState<Stream>(ctx(), stream.id, (s) => s.state === 'invalid');
      expect(invalid.state_reason).toContain('HTTP 401');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(receiver.requests).toHaveLength(0);
      const patched = await ctx().call<Stream>('PATCH', `/log_streams/${stream.id}`, { body: { config: { headers: { authorization: 'Bearer new-token' } } } });
      expect(patched.body.state).toBe('active');
      await receiver.waitFor(2);
      expect(receiver.eventIds()).toEqual(ids);
      expect(receiver.requests[0]?.headers.authorization).toBe('Bearer new-token');
    });

    it('pauses, resumes and replays', async () => {
      const org = await ctx().createOrg();
      const stream = await createStream(org);
      const paused = await ctx().call<Stream>('POST', `/log_streams/${stream.id}/pause`);
      expect(paused.body.state).toBe('inactive');
      // Pausing again answers the paused stream and records nothing more: the trail holds one pause.
      const again = await ctx().call<Stream>('POST', `/log_streams/${stream.id}/pause`);
      expect(again.status).toBe(200);
      expect(again.body.state).toBe('inactive');
      const pauses = await ctx().call<{ data: unknown[] }>('GET', `/audit_logs/events?organization_id=${await ctx().services.systemAudit.organizationId()}&actions=log_stream.paused&target_ids=${stream.id}`);
      expect(pauses.body.data).toHaveLength(1);
      const ids = await send(ctx(), org, 2);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(receiver.requests).toHaveLength(0);
      await ctx().call('POST', `/log_streams/${stream.id}/resume`);
      await receiver.waitFor(2);
      await waitForState<Stream>(ctx(), stream.id, (s) => s.stats.lag_events === 0);
      const replayed = await ctx().call('POST', `/log_streams/${stream.id}/replay`, { body: { from: '2000-01-01T00:00:00Z' } });
      expect(replayed.status).toBe(200);
      const deadline = Date.now() + 10_000;
      while (receiver.eventIds().length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(receiver.eventIds()).toEqual([...ids, ...ids]);

      // A replay from after the stream's position would skip undelivered events: refused, nothing moves.
      await ctx().call('POST', `/log_streams/${stream.id}/pause`);
      // Two undelivered events, stamped a minute and three minutes ahead (a client clock running fast).
      const later = [60_000, 180_000].map((ahead, i) => makeEvent({ occurred_at: new Date(Date.now() + ahead).toISOString(), actor: { id: `later${i}`, type: 'user' } }));
      expect((await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: org, events: later } })).status).toBe(200);
      const ahead = await ctx().call<{ errors: { field: string; message: string }[] }>('POST', `/log_streams/${stream.id}/replay`, {
        // Between the two: the replay would start after the first, skipping it.
        body: { from: new Date(Date.now() + 120_000).toISOString() },
      });
      expect(ahead.status).toBe(422);
      expect(ahead.body.errors).toEqual([{ code: 'invalid', field: 'from', message: expect.stringContaining('have not been delivered yet') as unknown }]);
      expect((await ctx().call<Stream>('GET', `/log_streams/${stream.id}`)).body.stats).toMatchObject({ cursor_seq: 2, lag_events: later.length });
      const replays = await ctx().call<{ data: unknown[] }>('GET', `/audit_logs/events?organization_id=${await ctx().services.systemAudit.organizationId()}&actions=log_stream.replayed&target_ids=${stream.id}`);
      expect(replays.body.data).toHaveLength(1);
    });

    it('a replay must move a caught-up stream back: after its last event it is refused and not recorded; an event stamped ahead of the clock replays', async () => {
      const org = await ctx().createOrg();
      const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString();
      expect((await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ occurred_at: tenMinutesAgo }) } })).status).toBe(200);
      const stream = await createStream(org);
      expect(stream.stats).toMatchObject({ cursor_seq: 1, lag_events: 0 });
      const replaysOf = async (): Promise<number> =>
        (await ctx().call<{ data: unknown[] }>('GET', `/audit_logs/events?organization_id=${await ctx().services.systemAudit.organizationId()}&actions=log_stream.replayed&target_ids=${stream.id}`)).body.data.length;

      // After the only event, in the past or in the future: nothing to re-deliver.
      for (const from of [new Date(Date.now() - 60_000).toISOString(), '2099-01-01T00:00:00Z']) {
        const noop = await ctx().call<{ errors: { field: string; message: string }[] }>('POST', `/log_streams/${stream.id}/replay`, { body: { from } });
        expect(noop.status, from).toBe(422);
        expect(noop.body.errors).toEqual([{ code: 'invalid', field: 'from', message: expect.stringContaining('nothing to replay') as unknown }]);
      }
      expect(await replaysOf()).toBe(0);

      // A client whose clock runs ahead stamps an event an hour from now; once delivered, it can be replayed from its time.
      const ahead = new Date(Date.now() + 3_600_000);
      expect((await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ occurred_at: ahead.toISOString() }) } })).status).toBe(200);
      await waitForState<Stream>(ctx(), stream.id, (s) => s.stats.cursor_seq === 2);
      const replayed = await ctx().call<Stream>('POST', `/log_streams/${stream.id}/replay`, { body: { from: new Date(ahead.getTime() - 60_000).toISOString() } });
      expect(replayed.status).toBe(200);
      expect(await replaysOf()).toBe(1);
    });

    it('sends a marked test event synchronously without moving the cursor', async () => {
      const org = await ctx().createOrg();
      const stream = await createStream(org);
      const ok = await ctx().call<{ success: boolean; http_status: number }>('POST', `/log_streams/${stream.id}/test`);
      expect(ok.body).toMatchObject({ success: true, http_status: 200, outcome: 'delivered' });
      expect(receiver.requests[0]?.events[0]).toMatchObject({ action: 'verity.log_stream.test' });
      receiver.respond({ status: 403 });
      const refused = await ctx().call<{ success: boolean; error: string }>('POST', `/log_streams/${stream.id}/test`);
      expect(refused.body).toMatchObject({ success: false, outcome: 'invalid', http_status: 403 });
      expect((await ctx().call<Stream>('GET', `/log_streams/${stream.id}`)).body.stats.cursor_seq).toBe(0);
    });

    it('forgets a deleted stream: its destination and estimates are dropped from the worker', async () => {
      const org = await ctx().createOrg();
      const stream = await createStream(org);
      await send(ctx(), org, 2);
      await waitForState<Stream>(ctx(), stream.id, (s) => s.stats.cursor_seq === 2);
      const dispatcher = ctx().services.dispatcher;
      await dispatcher.forgetDeleted();
      expect(dispatcher.remembers(stream.id)).toBe(true);
      expect((await ctx().call('DELETE', `/log_streams/${stream.id}`)).status).toBe(204);
      await dispatcher.forgetDeleted();
      expect(dispatcher.remembers(stream.id)).toBe(false);
    });

    it('deletes a stream: it disappears and delivers no more', async () => {
      const org = await ctx().createOrg();
      const stream = await createStream(org);
      expect((await ctx().call('DELETE', `/log_streams/${stream.id}`)).status).toBe(204);
      expect((await ctx().call('GET', `/log_streams/${stream.id}`)).status).toBe(404);
      await send(ctx(), org, 1);
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(receiver.requests).toHaveLength(0);
    });
  },
  { VERITY_TEST_WORKER: 'true', VERITY_ALLOW_PRIVATE_DESTINATIONS: 'true' },
);

describeEachBackend('log streams: address guard', (ctx) => {
  it('refuses a literal private address when the stream is saved, with the field named', async () => {
    const org = await ctx().createOrg();
    const refused = async (type: string, config: Record<string, unknown>): Promise<{ status: number; body: { errors?: { field: string; message: string }[] } }> =>
      ctx().call('POST', '/log_streams', { body: { organization_id: org, type, config } });
    const metadata = await refused('GenericHttps', { url: 'http://169.254.169.254/latest/meta-data' });
    expect(metadata.status).toBe(422);
    expect(metadata.body.errors).toEqual([{ code: 'invalid', field: 'config.url', message: expect.stringContaining('169.254.169.254 is a private') as unknown }]);
    expect((await refused('GenericHttps', { url: 'https://[::1]:8443/hook' })).status).toBe(422);
    expect((await refused('Syslog', { host: '10.0.0.5', port: 6514, tls: true, format: 'rfc5424_json' })).body.errors?.map((e) => e.field)).toEqual(['config.host']);
    // A public address is saved, and so is a host name (checked where it resolves, at connect time).
    expect((await refused('GenericHttps', { url: 'https://203.0.114.10/hook' })).status).toBe(201);
    expect((await refused('GenericHttps', { url: 'https://siem.example.com/hook' })).status).toBe(201);
  });

  it('refuses loopback destinations unless private destinations are allowed', async () => {
    const receiver = await new ScriptedReceiver().start();
    try {
      const org = await ctx().createOrg();
      // A name, not the literal address (which is refused on save): the guard checks where it resolves.
      const url = receiver.url.replace('127.0.0.1', 'localhost');
      const created = await ctx().call<Stream>('POST', '/log_streams', { body: { organization_id: org, type: 'GenericHttps', config: { url } } });
      const result = await ctx().call<{ success: boolean; outcome: string; error: string }>('POST', `/log_streams/${created.body.id}/test`);
      expect(result.body).toMatchObject({ success: false, outcome: 'invalid' });
      expect(result.body.error).toContain('private');
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });
});
