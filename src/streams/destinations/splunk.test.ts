import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SPLUNK_FAKE_TOKEN, startSplunkHec, type SplunkHecFake, type SplunkHecFakeOptions } from '../../../test/fakes/splunk-hec.js';
import type { AuditEvent } from '../../ingest/event.schema.js';
import { createHttpClient, type HttpClient } from '../net/http.js';
import type { TruncationNote } from './oversized-event.js';
import { hecEndpoint, splunk, SplunkConfigSchema, SPLUNK_MAX_REQUEST_BYTES, type SplunkConfig } from './splunk.js';

function auditEvent(n: number, occurredAt = '2026-09-25T14:03:07.123Z', pad = ''): AuditEvent {
  return {
    id: `evt_${String(n).padStart(5, '0')}`,
    organization_id: 'org_test',
    action: 'user.signed_in',
    occurred_at: occurredAt,
    version: 1,
    actor: { id: 'usr_1', type: 'user', name: 'Alice' },
    targets: [{ id: 'team_1', type: 'team' }],
    context: { location: '203.0.113.7', user_agent: 'curl/8.5' },
    metadata: pad === '' ? { n } : { n, pad },
  };
}

const batch = (count: number): AuditEvent[] => Array.from({ length: count }, (_, n) => auditEvent(n));

/** ~1.2 MB, as the batch ingest endpoint accepts it: bounded metadata on the event and on each of 46 targets. */
function bigEvent(base: AuditEvent): AuditEvent {
  const metadata = Object.fromEntries(Array.from({ length: 50 }, (_, k) => [`k${k}`, 'v'.repeat(500)]));
  return { ...base, metadata, targets: Array.from({ length: 46 }, (_, i) => ({ id: `t${i}`, type: 'doc', metadata })) };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('Splunk HEC destination', () => {
  let hec: SplunkHecFake;
  let http: HttpClient;

  beforeAll(() => {
    http = createHttpClient({ allowPrivate: true });
  });
  afterAll(async () => {
    await http.close();
  });
  beforeEach(async () => {
    hec = await startSplunkHec();
  });
  afterEach(async () => {
    await hec.close();
  });

  async function restart(options: SplunkHecFakeOptions): Promise<void> {
    await hec.close();
    hec = await startSplunkHec(options);
  }

  function destination(config: Partial<SplunkConfig> = {}) {
    return splunk.create({ hec_url: hec.url, hec_token: SPLUNK_FAKE_TOKEN, ...config }, { http, allowPrivate: true });
  }

  describe('wire format', () => {
    it('posts concatenated envelopes (not an array) to /services/collector/event', async () => {
      const events = batch(3);
      const result = await destination().deliver(events, { test: false });

      expect(result).toEqual({ outcome: 'delivered', status: 200, detail: undefined });
      expect(hec.received).toEqual(events.map((event) => ({ time: 1790344987.123, source: 'verity', sourcetype: '_json', event })));
      const [request] = hec.requests;
      expect(request?.path).toBe('/services/collector/event');
      expect(request?.body.startsWith('{"time":1790344987.123,')).toBe(true);
      expect(() => JSON.parse(request?.body ?? '') as unknown).toThrow();
      expect(request?.body.split('\n')).toHaveLength(3);
    });

    it('sends time as epoch seconds with a millisecond fraction', async () => {
      await destination().deliver([auditEvent(1, '2026-09-25T14:03:07Z'), auditEvent(2, '2026-09-25T14:03:07.5+02:00')], { test: false });
      expect(hec.received.map((envelope) => envelope.time)).toEqual([1790344987, 1790337787.5]);
    });

    it('sends the Splunk token, a channel and JSON content type, uncompressed', async () => {
      await destination().deliver(batch(1), { test: false });
      const headers = hec.requests[0]?.headers;
      expect(headers?.authorization).toBe(`Splunk ${SPLUNK_FAKE_TOKEN}`);
      expect(headers?.['x-splunk-request-channel']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(headers?.['content-type']).toBe('application/json');
      expect(headers?.['content-encoding']).toBeUndefined();
    });

    it('keeps one channel per destination instance', async () => {
      const first = destination();
      await first.deliver(batch(1), { test: false });
      await first.deliver(batch(1), { test: false });
      await destination().deliver(batch(1), { test: false });
      const channels = hec.requests.map((request) => request.headers['x-splunk-request-channel']);
      expect(channels[0]).toBe(channels[1]);
      expect(channels[2]).not.toBe(channels[0]);
    });

    it('sends index, source and sourcetype when configured', async () => {
      await destination({ index: 'audit', source: 'acme-audit', sourcetype: 'acme:audit' }).deliver(batch(1), { test: false });
      expect(hec.received[0]).toEqual({ time: 1790344987.123, source: 'acme-audit', sourcetype: 'acme:audit', index: 'audit', event: auditEvent(0) });
    });

    it.each([
      ['https://splunk.example.com:8088', 'https://splunk.example.com:8088/services/collector/event'],
      ['https://splunk.example.com:8088/', 'https://splunk.example.com:8088/services/collector/event'],
      ['https://http-inputs-acme.splunkcloud.com', 'https://http-inputs-acme.splunkcloud.com/services/collector/event'],
      ['https://splunk.example.com:8088/services/collector', 'https://splunk.example.com:8088/services/collector'],
      ['https://splunk.example.com:8088/services/collector/', 'https://splunk.example.com:8088/services/collector'],
      ['https://splunk.example.com:8088/services/collector/event', 'https://splunk.example.com:8088/services/collector/event'],
      ['https://splunk.example.com:8088/services/collector/event/1.0', 'https://splunk.example.com:8088/services/collector/event/1.0'],
      ['https://proxy.example.com/splunk', 'https://proxy.example.com/splunk/services/collector/event'],
      ['https://proxy.example.com/splunk/services/collector', 'https://proxy.example.com/splunk/services/collector'],
    ])('hec_url %s posts to %s', (hecUrl, expected) => {
      expect(hecEndpoint(hecUrl)).toBe(expected);
    });

    it.each(['/services/collector', '/services/collector/event/1.0'])('delivers through a hec_url ending in %s', async (path) => {
      const result = await destination({ hec_url: `${hec.url}${path}` }).deliver(batch(2), { test: false });
      expect(result.outcome).toBe('delivered');
      expect(hec.requests[0]?.path).toBe(path);
    });
  });

  describe('limits', () => {
    it('budgets ~900 kB per request, envelopes included; the count cap only bounds tiny events', async () => {
      const target = destination({ index: 'audit' });
      expect(target.limits.maxEvents).toBe(10_000);
      expect(target.limits.maxBytes).toBe(900_000);
      const overhead = target.limits.eventOverheadBytes ?? 0;
      expect(overhead).toBeGreaterThan(60);

      const sample = Buffer.byteLength(JSON.stringify(auditEvent(0, undefined, '')));
      const padding = Math.floor(target.limits.maxBytes / 1000) - sample - overhead - 12;
      const events = Array.from({ length: 1000 }, (_, n) => auditEvent(n, undefined, 'x'.repeat(padding)));
      expect(events.reduce((sum, event) => sum + Buffer.byteLength(JSON.stringify(event)) + overhead, 0)).toBeLessThanOrEqual(target.limits.maxBytes);
      expect((await target.deliver(events, { test: false })).outcome).toBe('delivered');
      expect(Buffer.byteLength(hec.requests[0]?.body ?? '')).toBeLessThanOrEqual(900_000);
    });

    it('refuses more than 10,000 events, or several events above 1 MB, without sending them', async () => {
      expect((await destination().deliver(batch(10_001), { test: false })).outcome).toBe('too_large');
      const big = [auditEvent(1, undefined, 'x'.repeat(SPLUNK_MAX_REQUEST_BYTES / 2)), auditEvent(2, undefined, 'x'.repeat(SPLUNK_MAX_REQUEST_BYTES / 2))];
      expect((await destination().deliver(big, { test: false })).outcome).toBe('too_large');
      expect(hec.requests).toHaveLength(0);
    });

    it('an event whose envelope exceeds the ~900 kB cap arrives as a marked summary instead of stalling on 413', async () => {
      // A collector with Splunk Cloud's reported 1 MB limit: the whole event would be refused forever.
      await restart({ maxContentLength: 1_000_000 });
      const big = bigEvent(auditEvent(2));
      expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(1_150_000);
      const result = await destination().deliver([auditEvent(1), big, auditEvent(3)], { test: false });
      expect(result).toMatchObject({ outcome: 'delivered', status: 200 });
      expect(hec.received.map((envelope) => (envelope.event as AuditEvent).id)).toEqual(['evt_00001', 'evt_00002', 'evt_00003']);
      const summary = hec.received[1]?.event as AuditEvent & { verity_truncated: TruncationNote };
      expect(summary).toMatchObject({ action: big.action, metadata: {} });
      expect(summary.verity_truncated).toMatchObject({ limit_bytes: 900_000, targets_total: 46, targets_kept: 10 });
      expect(hec.received[2]?.event).toEqual(auditEvent(3));
    });

    it("maps the collector's 413 (max_content_length) to too_large", async () => {
      await restart({ maxContentLength: 2000 });
      const result = await destination().deliver(batch(10), { test: false });
      expect(result).toMatchObject({ outcome: 'too_large', status: 413 });
      expect(hec.received).toEqual([]);
    });
  });

  describe('HEC codes', () => {
    it('code 6 with invalid-event-number N is partial: the N events before it were indexed', async () => {
      const events = batch(5);
      hec.rejectEventIds.add('evt_00002');
      const result = await destination().deliver(events, { test: false });

      expect(result).toMatchObject({ outcome: 'partial', accepted: 2, status: 400 });
      expect(result.outcome === 'partial' && result.error).toMatch(/code 6.*Invalid data format.*evt_00002/);
      expect(hec.received.map((envelope) => envelope.event)).toEqual(events.slice(0, 2));
    });

    it('code 6 on the first event is invalid: resending cannot help', async () => {
      hec.rejectEventIds.add('evt_00000');
      const result = await destination().deliver(batch(3), { test: false });
      expect(result).toMatchObject({ outcome: 'invalid', status: 400 });
      expect(result.outcome === 'invalid' && result.error).toMatch(/evt_00000/);
    });

    it.each([
      ['without invalid-event-number', undefined],
      ['with an invalid-event-number beyond the batch', 7],
    ])('code 6 %s is invalid', async (_name, invalidEventNumber) => {
      hec.failNext(1, { status: 400, code: 6, ...(invalidEventNumber !== undefined ? { invalidEventNumber } : {}) });
      expect((await destination().deliver(batch(3), { test: false })).outcome).toBe('invalid');
    });

    it('a wrong token (code 4, HTTP 403) is invalid, says what to check, and never echoes the token', async () => {
      const result = await destination({ hec_token: 'aaaaaaaa-0000-0000-0000-000000000000' }).deliver(batch(1), { test: false });
      expect(result).toMatchObject({ outcome: 'invalid', status: 403 });
      expect(result.outcome === 'invalid' && result.error).toMatch(/code 4.*Invalid token.*hec_token/);
      expect(JSON.stringify(result)).not.toContain('aaaaaaaa-0000');
    });

    it('a disabled token (code 1, HTTP 403) is invalid', async () => {
      await restart({ disabledTokens: [SPLUNK_FAKE_TOKEN] });
      const result = await destination().deliver(batch(1), { test: false });
      expect(result).toMatchObject({ outcome: 'invalid', status: 403 });
      expect(result.outcome === 'invalid' && result.error).toMatch(/code 1.*Token disabled/);
    });

    it.each([
      [2, 401],
      [3, 401],
    ])('code %i (HTTP %i) is invalid', async (code, status) => {
      hec.failNext(1, { status, code });
      expect(await destination().deliver(batch(1), { test: false })).toMatchObject({ outcome: 'invalid', status });
    });

    it("an index the token may not write to (code 7) is invalid and names the index", async () => {
      await restart({ allowedIndexes: ['main'] });
      const result = await destination({ index: 'audit' }).deliver(batch(2), { test: false });
      expect(result).toMatchObject({ outcome: 'invalid', status: 400 });
      expect(result.outcome === 'invalid' && result.error).toMatch(/code 7.*Incorrect index.*index/);
      expect(hec.received).toEqual([]);
    });

    it.each([
      [9, 503],
      [8, 500],
      [18, 503],
    ])('code %i (HTTP %i) is retried', async (code, status) => {
      hec.failNext(1, { status, code });
      const result = await destination().deliver(batch(1), { test: false });
      expect(result).toMatchObject({ outcome: 'retry', status });
      expect(result.outcome === 'retry' && result.error).toContain(`code ${code}`);
    });

    it('code 9 honours Retry-After', async () => {
      hec.failNext(1, { status: 503, code: 9, retryAfter: '30' });
      expect(await destination().deliver(batch(1), { test: false })).toMatchObject({ outcome: 'retry', retryAfterMs: 30_000 });
    });

    it('a 503 or 502 without HEC JSON (a load balancer) is retried', async () => {
      hec.failNext(1, { status: 503, retryAfter: '2' });
      hec.failNext(1, { status: 502, body: '<html>Bad Gateway</html>' });
      expect(await destination().deliver(batch(1), { test: false })).toMatchObject({ outcome: 'retry', status: 503, retryAfterMs: 2000 });
      expect(await destination().deliver(batch(1), { test: false })).toMatchObject({ outcome: 'retry', status: 502 });
    });

    it.each([
      [5, 'No data'],
      [10, 'Data channel is missing'],
      [11, 'Invalid data channel'],
      [12, 'Event field is required'],
      [13, 'Event field cannot be blank'],
      [14, 'ACK is disabled'],
      [15, 'Error in handling indexed fields'],
      [16, 'Query string authorization is not enabled'],
    ])('code %i (HTTP 400) is invalid with the HEC text', async (code, text) => {
      hec.failNext(1, { status: 400, code, invalidEventNumber: 0 });
      const result = await destination().deliver(batch(1), { test: false });
      expect(result).toMatchObject({ outcome: 'invalid', status: 400 });
      expect(result.outcome === 'invalid' && result.error).toContain(`Splunk HEC code ${code} (HTTP 400): ${text}`);
    });

    it('a 404 page (wrong hec_url path) is invalid', async () => {
      const result = await destination({ hec_url: `${hec.url}/not-splunk` }).deliver(batch(1), { test: false });
      expect(result).toMatchObject({ outcome: 'invalid', status: 404 });
    });

    it('a busy collector, then a free one, delivers on the second attempt', async () => {
      hec.failNext(1, { status: 503, code: 9 });
      const target = destination();
      expect((await target.deliver(batch(2), { test: false })).outcome).toBe('retry');
      expect((await target.deliver(batch(2), { test: false })).outcome).toBe('delivered');
      expect(hec.received).toHaveLength(2);
    });

    it('waits for a slow collector', async () => {
      hec.delayMs = 300;
      const started = performance.now();
      expect((await destination().deliver(batch(1), { test: false })).outcome).toBe('delivered');
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    });

    it('a closed port is a network error to retry', async () => {
      const port = await closedPort();
      const result = await destination({ hec_url: `http://127.0.0.1:${port}` }).deliver(batch(1), { test: false });
      expect(result.outcome).toBe('retry');
      expect(result.outcome === 'retry' && result.error).toMatch(/ECONNREFUSED/);
    });
  });

  describe('address guard', () => {
    let guarded: HttpClient;
    beforeAll(() => {
      guarded = createHttpClient({ allowPrivate: false });
    });
    afterAll(async () => {
      await guarded.close();
    });

    it('refuses a host name that resolves to loopback', async () => {
      const port = new URL(hec.url).port;
      const target = splunk.create({ hec_url: `http://localhost:${port}`, hec_token: SPLUNK_FAKE_TOKEN }, { http: guarded, allowPrivate: false });
      const result = await target.deliver(batch(1), { test: false });
      expect(result.outcome).toBe('invalid');
      expect(result.outcome === 'invalid' && result.error).toMatch(/private, loopback and link-local addresses/);
      expect(hec.requests).toHaveLength(0);
    });

    // Node skips the lookup hook for IP literals; http.ts checks them itself.
    it('refuses a loopback IP literal', async () => {
      const target = splunk.create({ hec_url: hec.url, hec_token: SPLUNK_FAKE_TOKEN }, { http: guarded, allowPrivate: false });
      const result = await target.deliver(batch(1), { test: false });
      expect(result.outcome).toBe('invalid');
      expect(result.outcome === 'invalid' && result.error).toMatch(/private, loopback and link-local addresses/);
    });
  });

  describe('config', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(SplunkConfigSchema);

    it('keeps hec_token secret', () => {
      expect(splunk.secretFields).toEqual(['hec_token']);
    });

    it.each([
      { hec_url: 'https://splunk.example.com:8088', hec_token: SPLUNK_FAKE_TOKEN },
      { hec_url: 'http://10.0.0.5:8088/services/collector', hec_token: 't', index: 'audit_logs', source: 'verity', sourcetype: 'acme:audit' },
    ])('accepts %j', (config) => {
      expect(validate(config)).toBe(true);
    });

    it.each([
      { hec_token: 't' },
      { hec_url: 'https://splunk.example.com:8088' },
      { hec_url: 'splunk.example.com:8088', hec_token: 't' },
      { hec_url: 'https://splunk.example.com:8088', hec_token: 'two words' },
      { hec_url: 'https://splunk.example.com:8088', hec_token: 't', index: 'Audit Logs' },
      { hec_url: 'https://splunk.example.com:8088', hec_token: 't', host: 'x' },
    ])('refuses %j', (config) => {
      expect(validate(config)).toBe(false);
    });
  });

  describe('the fake collector is strict', () => {
    const channel = '0f8f1a9e-8d6b-4c1e-9a57-3c2b1d0e4f5a';
    async function post(body: NonNullable<RequestInit['body']>, headers: Record<string, string | undefined> = {}, path = '/services/collector/event') {
      const merged: Record<string, string> = {};
      for (const [name, value] of Object.entries({ authorization: `Splunk ${SPLUNK_FAKE_TOKEN}`, 'x-splunk-request-channel': channel, 'content-type': 'application/json', ...headers })) {
        if (value !== undefined) merged[name] = value;
      }
      const response = await fetch(`${hec.url}${path}`, { method: 'POST', headers: merged, body });
      return { status: response.status, reply: JSON.parse(await response.text()) as Record<string, unknown> };
    }
    const one = JSON.stringify({ event: { id: 'a' } });

    it('answers code 0 and indexes envelopes with or without separators', async () => {
      expect(await post(`${one}${one}\n  ${one}`)).toEqual({ status: 200, reply: { text: 'Success', code: 0 } });
      expect(hec.received).toHaveLength(3);
    });

    it.each([
      ['no Authorization', { authorization: undefined }, 401, 2],
      ['a Bearer token', { authorization: 'Bearer x' }, 401, 3],
      ['an unknown token', { authorization: 'Splunk nope' }, 403, 4],
      ['no channel', { 'x-splunk-request-channel': undefined }, 400, 10],
      ['a channel that is not a GUID', { 'x-splunk-request-channel': 'chan' }, 400, 11],
    ])('refuses %s', async (_name, headers, status, code) => {
      const response = await post(one, headers);
      expect(response.status).toBe(status);
      expect(response.reply.code).toBe(code);
    });

    it('accepts Basic auth with the token as password', async () => {
      expect((await post(one, { authorization: `Basic ${Buffer.from(`x:${SPLUNK_FAKE_TOKEN}`).toString('base64')}` })).status).toBe(200);
    });

    it.each([
      ['an empty body', '', 5, undefined],
      ['a JSON array', `[${one}]`, 6, 0],
      ['a missing event after a good one', `${one}{"time":1}`, 12, 1],
      ['a blank event', `${one}${one}{"event":"  "}`, 13, 2],
      ['an empty event object', '{"event":{}}', 13, 0],
      ['a non-numeric time', '{"time":"yesterday","event":"x"}', 6, 0],
      ['nested indexed fields', '{"event":"x","fields":{"a":{"b":1}}}', 15, 0],
      ['a truncated envelope', `${one}{"event":{"id":`, 6, 1],
    ])('refuses %s with code %i at event %s, indexing the ones before', async (_name, body, code, number) => {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(response.reply.code).toBe(code);
      expect(response.reply['invalid-event-number']).toBe(number);
      expect(hec.received).toHaveLength(number ?? 0);
    });

    it('decodes gzip and refuses deflate with 415', async () => {
      expect((await post(gzipSync(one), { 'content-encoding': 'gzip' })).status).toBe(200);
      const deflated = await fetch(`${hec.url}/services/collector/event`, {
        method: 'POST',
        headers: { authorization: `Splunk ${SPLUNK_FAKE_TOKEN}`, 'x-splunk-request-channel': channel, 'content-encoding': 'deflate' },
        body: deflateSync(one),
      });
      expect(deflated.status).toBe(415);
    });

    it('answers health with code 17 and unknown paths with 404', async () => {
      const health = await fetch(`${hec.url}/services/collector/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ text: 'HEC is healthy', code: 17 });
      expect((await post(one, {}, '/services/collector/raw')).status).toBe(404);
    });
  });
});
