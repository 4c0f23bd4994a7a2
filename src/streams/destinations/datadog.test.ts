import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DATADOG_FAKE_API_KEY, startDatadogIntake, type DatadogIntakeFake } from '../../../test/fakes/datadog-intake.js';
import type { AuditEvent } from '../../ingest/event.schema.js';
import { createHttpClient, type HttpClient } from '../net/http.js';
import type { TruncationNote } from './oversized-event.js';
import { DATADOG_MAX_ITEM_BYTES, DATADOG_MAX_REQUEST_BYTES, DATADOG_SITES, datadog, datadogEndpoint, DatadogConfigSchema, type DatadogConfig, type DatadogSite } from './datadog.js';

function auditEvent(n: number, occurredAt = new Date().toISOString(), pad = ''): AuditEvent {
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

describe('Datadog destination', () => {
  let intake: DatadogIntakeFake;
  let http: HttpClient;

  beforeAll(() => {
    http = createHttpClient({ allowPrivate: true });
  });
  afterAll(async () => {
    await http.close();
  });
  beforeEach(async () => {
    intake = await startDatadogIntake();
  });
  afterEach(async () => {
    await intake.close();
  });

  function destination(config: Partial<DatadogConfig> = {}) {
    return datadog.create({ site: 'US1', api_key: DATADOG_FAKE_API_KEY, endpoint_url: intake.url, ...config }, { http, allowPrivate: true });
  }

  describe('wire format', () => {
    it("posts WorkOS's item shape as a gzip JSON array to /api/v2/logs with DD-API-KEY", async () => {
      const events = [auditEvent(1), auditEvent(2), auditEvent(3)];
      const result = await destination().deliver(events, { test: false });

      expect(result).toEqual({ outcome: 'delivered', status: 202 });
      expect(intake.received).toEqual(
        events.map((event) => ({ message: event, ddsource: 'verity', service: 'audit-logs', timestamp: Date.parse(event.occurred_at) })),
      );
      // `message` first, as in WorkOS's documented `[{ "message", "ddsource", "service" }]`.
      expect(Object.keys(intake.received[0] ?? {})).toEqual(['message', 'ddsource', 'service', 'timestamp']);
      const [request] = intake.requests;
      expect(request?.method).toBe('POST');
      expect(request?.path).toBe('/api/v2/logs');
      expect(request?.headers['dd-api-key']).toBe(DATADOG_FAKE_API_KEY);
      expect(request?.headers['content-type']).toBe('application/json');
      expect(request?.headers['content-encoding']).toBe('gzip');
      expect(request?.wireBytes).toBeLessThan(Buffer.byteLength(request?.body ?? ''));
      expect(JSON.parse(request?.body ?? '')).toBeInstanceOf(Array);
    });

    it('sends source, service and tags as ddsource, service and ddtags', async () => {
      const result = await destination({ source: 'acme-audit', service: 'acme', tags: 'env:prod,team:sec' }).deliver([auditEvent(1)], { test: false });
      expect(result.outcome).toBe('delivered');
      expect(intake.received[0]).toMatchObject({ ddsource: 'acme-audit', service: 'acme', ddtags: 'env:prod,team:sec' });
    });

    it('leaves out timestamps Datadog would drop (older than 18 hours), so the log is kept at intake time', async () => {
      const old = auditEvent(1, new Date(Date.now() - 30 * 3_600_000).toISOString());
      const recent = auditEvent(2);
      const result = await destination().deliver([old, recent], { test: false });

      expect(result.outcome).toBe('delivered');
      expect(intake.dropped).toEqual([]);
      expect(intake.received.map((item) => item.timestamp)).toEqual([undefined, Date.parse(recent.occurred_at)]);
      expect(intake.received[0]?.message).toEqual(old);
    });

    it('offers every site of PROTOCOLS §2, each accepted by the config schema', () => {
      expect(DATADOG_SITES).toMatchObject({ UK1: 'uk1.datadoghq.com', 'US2-FED': 'us2.ddog-gov.com' });
      const validate = new Ajv({ strict: false }).compile(DatadogConfigSchema);
      for (const site of Object.keys(DATADOG_SITES)) expect(validate({ site, api_key: DATADOG_FAKE_API_KEY }), site).toBe(true);
    });

    it.each(Object.entries(DATADOG_SITES))('uses the %s intake host', (site, host) => {
      expect(datadogEndpoint({ site: site as DatadogSite })).toBe(`https://http-intake.logs.${host}/api/v2/logs`);
    });

    it.each([
      ['https://proxy.example.com', 'https://proxy.example.com/api/v2/logs'],
      ['https://proxy.example.com/', 'https://proxy.example.com/api/v2/logs'],
      ['https://proxy.example.com/datadog/', 'https://proxy.example.com/datadog/api/v2/logs'],
      ['http://10.0.0.5:8080', 'http://10.0.0.5:8080/api/v2/logs'],
    ])('endpoint_url %s replaces the site host', (endpointUrl, expected) => {
      expect(datadogEndpoint({ site: 'EU1', endpoint_url: endpointUrl })).toBe(expected);
    });
  });

  describe('limits', () => {
    it('exposes 1000 events and a byte budget that keeps a full request under 4.25 MB', () => {
      const { limits } = destination({ tags: 'env:prod' });
      expect(limits.maxEvents).toBe(1000);
      expect(limits.maxBytes).toBeGreaterThan(4_000_000);
      expect(limits.maxBytes).toBeLessThanOrEqual(4_250_000);
    });

    it('a batch filling the budget is accepted by a 5 MB intake', async () => {
      const target = destination({ tags: 'env:prod,team:security' });
      const sample = Buffer.byteLength(JSON.stringify(auditEvent(0, undefined, '')));
      // The budget covers the events and the item around each one.
      const overhead = target.limits.eventOverheadBytes ?? 0;
      const padding = Math.floor(target.limits.maxBytes / 1000) - sample - overhead - 12;
      const events = Array.from({ length: 1000 }, (_, n) => auditEvent(n, undefined, 'x'.repeat(padding)));
      const eventBytes = events.reduce((sum, event) => sum + Buffer.byteLength(JSON.stringify(event)) + overhead, 0);
      expect(eventBytes).toBeLessThanOrEqual(target.limits.maxBytes);

      const result = await target.deliver(events, { test: false });
      expect(result.outcome).toBe('delivered');
      expect(Buffer.byteLength(intake.requests[0]?.body ?? '')).toBeLessThanOrEqual(4_250_000);
      expect(intake.received).toHaveLength(1000);
    });

    it('refuses more than 1000 events without sending them', async () => {
      const events = Array.from({ length: 1001 }, (_, n) => auditEvent(n));
      const result = await destination().deliver(events, { test: false });
      expect(result.outcome).toBe('too_large');
      expect(intake.requests).toHaveLength(0);
    });

    it('refuses several events above 5 MB without sending them', async () => {
      // Each event fits one log; together they do not fit one request.
      const events = Array.from({ length: Math.ceil(DATADOG_MAX_REQUEST_BYTES / DATADOG_MAX_ITEM_BYTES) + 1 }, (_, n) => auditEvent(n, undefined, 'x'.repeat(DATADOG_MAX_ITEM_BYTES - 1000)));
      const result = await destination().deliver(events, { test: false });
      expect(result.outcome).toBe('too_large');
      expect(intake.requests).toHaveLength(0);
    });

    it("reports Datadog's 413 for a lone event as too_large", async () => {
      await intake.close();
      intake = await startDatadogIntake({ maxBytes: 2_000 });
      const result = await destination().deliver([auditEvent(1, undefined, 'x'.repeat(5_000))], { test: false });
      expect(result).toMatchObject({ outcome: 'too_large', status: 413 });
      expect(intake.requests).toHaveLength(1);
    });

    it('an event over 1 MB per log arrives as a marked, parseable summary; the events around it whole', async () => {
      const big = bigEvent(auditEvent(2));
      expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(1_150_000);
      const result = await destination().deliver([auditEvent(1), big, auditEvent(3)], { test: false });
      expect(result).toMatchObject({ outcome: 'delivered', status: 202 });
      expect(intake.received.map((item) => (item.message as AuditEvent).id)).toEqual(['evt_00001', 'evt_00002', 'evt_00003']);
      const summary = intake.received[1]?.message as AuditEvent & { verity_truncated: TruncationNote };
      expect(summary).toMatchObject({ action: big.action, actor: big.actor, metadata: {} });
      expect(summary.verity_truncated).toMatchObject({ limit_bytes: DATADOG_MAX_ITEM_BYTES, targets_total: 46, targets_kept: 10 });
      expect(Buffer.byteLength(JSON.stringify(intake.received[1]))).toBeLessThanOrEqual(DATADOG_MAX_ITEM_BYTES);
      expect((intake.received[2]?.message as AuditEvent).metadata).toEqual({ n: 3 });
    });
  });

  describe('responses', () => {
    it.each([
      [400, 'invalid'],
      [401, 'invalid'],
      [403, 'invalid'],
      [404, 'invalid'],
      [408, 'retry'],
      [413, 'too_large'],
      [429, 'retry'],
      [500, 'retry'],
      [502, 'retry'],
      [503, 'retry'],
      [504, 'retry'],
    ] as const)('HTTP %i → %s', async (status, outcome) => {
      intake.failNext(1, { status });
      const result = await destination().deliver([auditEvent(1)], { test: false });
      expect(result).toMatchObject({ outcome, status });
      expect(intake.received).toEqual([]);
    });

    it('a wrong API key is invalid, says what to check, and never echoes the key', async () => {
      const result = await destination({ api_key: 'wrong-key-0123456789' }).deliver([auditEvent(1)], { test: false });
      expect(result).toMatchObject({ outcome: 'invalid', status: 403 });
      expect(result.outcome === 'invalid' && result.error).toMatch(/api_key/);
      expect(JSON.stringify(result)).not.toContain('wrong-key-0123456789');
    });

    it('400 names the refused payload', async () => {
      intake.failNext(1, { status: 400, body: '{"errors":["Bad Request"]}' });
      const result = await destination().deliver([auditEvent(1)], { test: false });
      expect(result.outcome === 'invalid' && result.error).toMatch(/Datadog refused the payload.*Bad Request/);
    });

    it.each([
      ['7', 7000],
      ['0', 0],
      ['an HTTP date 60 s ahead', 60_000],
      ['soon', undefined],
    ] as const)('429 with Retry-After %s waits %s ms', async (given, expected) => {
      // The date is made when the test runs, not when it is collected (which may be seconds earlier).
      const retryAfter = given === 'an HTTP date 60 s ahead' ? new Date(Date.now() + 60_000).toUTCString() : given;
      intake.failNext(1, { status: 429, retryAfter });
      const result = await destination().deliver([auditEvent(1)], { test: false });
      expect(result.outcome).toBe('retry');
      const waited = result.outcome === 'retry' ? result.retryAfterMs : -1;
      if (expected === undefined || expected < 1000) expect(waited).toBe(expected);
      else expect(waited).toBeGreaterThan(expected - 2000);
      if (expected !== undefined && expected >= 1000) expect(waited).toBeLessThanOrEqual(expected);
    });

    it('a 500 then a 202 delivers on the second attempt', async () => {
      intake.failNext(1, { status: 500 });
      const target = destination();
      expect((await target.deliver([auditEvent(1)], { test: false })).outcome).toBe('retry');
      expect((await target.deliver([auditEvent(1)], { test: false })).outcome).toBe('delivered');
      expect(intake.received).toHaveLength(1);
    });

    it('a closed port is a network error to retry', async () => {
      const port = await closedPort();
      const result = await destination({ endpoint_url: `http://127.0.0.1:${port}` }).deliver([auditEvent(1)], { test: false });
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
      const port = new URL(intake.url).port;
      const target = datadog.create({ site: 'US1', api_key: DATADOG_FAKE_API_KEY, endpoint_url: `http://localhost:${port}` }, { http: guarded, allowPrivate: false });
      const result = await target.deliver([auditEvent(1)], { test: false });
      expect(result.outcome).toBe('invalid');
      expect(result.outcome === 'invalid' && result.error).toMatch(/private, loopback and link-local addresses/);
      expect(intake.requests).toHaveLength(0);
    });

    // Node skips the lookup hook for IP literals; http.ts checks them itself.
    it('refuses a loopback IP literal', async () => {
      const target = datadog.create({ site: 'US1', api_key: DATADOG_FAKE_API_KEY, endpoint_url: intake.url }, { http: guarded, allowPrivate: false });
      const result = await target.deliver([auditEvent(1)], { test: false });
      expect(result.outcome).toBe('invalid');
      expect(result.outcome === 'invalid' && result.error).toMatch(/private, loopback and link-local addresses/);
    });
  });

  describe('config', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(DatadogConfigSchema);

    it('keeps api_key secret', () => {
      expect(datadog.secretFields).toEqual(['api_key']);
    });

    it.each([
      { site: 'US1', api_key: 'k' },
      { site: 'US1-FED', api_key: DATADOG_FAKE_API_KEY, source: 'acme', service: 'audit', tags: 'env:prod', endpoint_url: 'https://proxy.example.com' },
    ])('accepts %j', (config) => {
      expect(validate(config)).toBe(true);
    });

    it.each([
      { api_key: 'k' },
      { site: 'US2', api_key: 'k' },
      { site: 'US1' },
      { site: 'US1', api_key: 'has space' },
      { site: 'US1', api_key: 'k', endpoint_url: 'ftp://example.com' },
      { site: 'US1', api_key: 'k', endpoint_url: 'not a url' },
      { site: 'US1', api_key: 'k', hostname: 'x' },
    ])('refuses %j', (config) => {
      expect(validate(config)).toBe(false);
    });
  });

  describe('the fake intake is strict', () => {
    async function post(body: NonNullable<RequestInit['body']>, headers: Record<string, string> = {}, path = '/api/v2/logs') {
      const response = await fetch(`${intake.url}${path}`, {
        method: 'POST',
        headers: { 'dd-api-key': DATADOG_FAKE_API_KEY, 'content-type': 'application/json', ...headers },
        body,
      });
      return { status: response.status, body: await response.text() };
    }
    const valid = JSON.stringify([{ message: 'hello' }]);

    it('answers 202 {} and keeps string or object messages', async () => {
      expect(await post(JSON.stringify([{ message: 'hello' }, { message: { a: 1 } }]))).toEqual({ status: 202, body: '{}' });
      expect(intake.received).toEqual([{ message: 'hello' }, { message: { a: 1 } }]);
    });

    it('401 without a key, 403 with an unknown one', async () => {
      const missing = await fetch(`${intake.url}/api/v2/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: valid });
      expect(missing.status).toBe(401);
      expect((await post(valid, { 'dd-api-key': 'nope' })).status).toBe(403);
    });

    it.each([
      ['invalid JSON', '[{'],
      ['an object instead of an array', JSON.stringify({ message: 'x' })],
      ['an empty array', '[]'],
      ['an item without message', JSON.stringify([{ ddsource: 'x' }])],
      ['a null message', JSON.stringify([{ message: null }])],
      ['a non-string ddtags', JSON.stringify([{ message: 'x', ddtags: ['a'] }])],
    ])('400 for %s', async (_name, body) => {
      expect((await post(body)).status).toBe(400);
      expect(intake.received).toEqual([]);
    });

    it('400 for a non-JSON content type', async () => {
      expect((await post(valid, { 'content-type': 'text/plain' })).status).toBe(400);
    });

    it('413 above 1000 items or 5 MB uncompressed, even when the gzip body is small', async () => {
      expect((await post(JSON.stringify(Array.from({ length: 1001 }, () => ({ message: 'x' }))))).status).toBe(413);
      const big = JSON.stringify([{ message: 'x'.repeat(5_000_001) }]);
      expect((await post(gzipSync(big), { 'content-encoding': 'gzip' })).status).toBe(413);
    });

    it('decodes gzip and refuses unknown encodings', async () => {
      expect((await post(gzipSync(valid), { 'content-encoding': 'gzip' })).status).toBe(202);
      expect((await post(valid, { 'content-encoding': 'br' })).status).toBe(415);
    });

    it('404 elsewhere; injected answers carry Retry-After', async () => {
      expect((await post(valid, {}, '/v1/input')).status).toBe(404);
      intake.failNext(1, { status: 429, retryAfter: '3' });
      const response = await fetch(`${intake.url}/api/v2/logs`, { method: 'POST', body: valid });
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('3');
    });
  });
});
