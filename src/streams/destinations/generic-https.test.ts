import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiverFake, type WebhookReceiverOptions } from '../../../test/fakes/webhook-receiver.js';
import type { AuditEvent } from '../../ingest/event.schema.js';
import { createHttpClient, type HttpClient } from '../net/http.js';
import { GENERIC_HTTPS_MAX_BYTES, genericHttps, signWebhook, type GenericHttpsConfig } from './generic-https.js';
import type { TruncationNote } from './oversized-event.js';

function auditEvent(n: number): AuditEvent {
  return {
    id: `evt_${String(n).padStart(5, '0')}`,
    organization_id: 'org_test',
    action: 'user.signed_in',
    occurred_at: '2026-09-25T14:03:07.123Z',
    version: 1,
    actor: { id: 'usr_1', type: 'user', name: 'Alice' },
    targets: [{ id: 'team_1', type: 'team' }],
    context: { location: '203.0.113.7', user_agent: 'curl/8.5' },
    metadata: { n },
  };
}

const batch = (count: number): AuditEvent[] => Array.from({ length: count }, (_, n) => auditEvent(n));
const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;
const item = (event: AuditEvent) => ({ event, keySuffix: event.id, timestamp: event.occurred_at, source: 'verity' });

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('GenericHttps destination', () => {
  let receiver: WebhookReceiverFake | undefined;
  let http: HttpClient;

  beforeAll(() => {
    http = createHttpClient({ allowPrivate: true });
  });
  afterAll(async () => {
    await http.close();
  });
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  async function start(options: WebhookReceiverOptions = {}): Promise<WebhookReceiverFake> {
    receiver = await startWebhookReceiver(options);
    return receiver;
  }

  function destination(url: string, config: Partial<GenericHttpsConfig> = {}) {
    return genericHttps.create({ url, ...config }, { http, allowPrivate: true });
  }

  describe('formats', () => {
    it("json: one array of WorkOS's items", async () => {
      const fake = await start();
      const events = batch(3);
      const result = await destination(`${fake.url}/hooks/audit?x=1`).deliver(events, { test: false });

      expect(result).toEqual({ outcome: 'delivered', status: 200 });
      const [request] = fake.received;
      expect(request?.path).toBe('/hooks/audit?x=1');
      expect(request?.headers['content-type']).toBe('application/json');
      expect(request?.body).toEqual(events.map(item));
      expect(request?.signature).toBe('unsigned');
      expect(request?.headers['webhook-signature']).toBeUndefined();
    });

    it('ndjson: one item per line, newline-terminated', async () => {
      const fake = await start();
      const events = batch(3);
      await destination(fake.url, { format: 'ndjson' }).deliver(events, { test: false });

      const [request] = fake.received;
      expect(request?.headers['content-type']).toBe('application/x-ndjson');
      expect(request?.rawBody.endsWith('}\n')).toBe(true);
      expect(request?.rawBody.split('\n')).toHaveLength(4);
      expect(request?.body).toEqual(events.map(item));
    });

    it('sends custom headers', async () => {
      const fake = await start();
      await destination(fake.url, { headers: { Authorization: 'Bearer abc', 'X-Tenant': 'acme' } }).deliver(batch(1), { test: false });

      const headers = fake.received[0]?.headers;
      expect(headers?.authorization).toBe('Bearer abc');
      expect(headers?.['x-tenant']).toBe('acme');
      expect(headers?.['content-type']).toBe('application/json');
      expect(headers?.['user-agent']).toBe('Verity-Log-Stream/1');
    });

    // Header names are case-insensitive: the format's content type must win over a customer header.
    it('a custom Content-Type does not override the format', async () => {
      const fake = await start();
      await destination(fake.url, { headers: { 'Content-Type': 'text/plain' } }).deliver(batch(1), { test: false });
      expect(fake.received[0]?.headers['content-type']).toBe('application/json');
    });
  });

  describe('Standard Webhooks signatures', () => {
    it("matches the spec's published test vector", () => {
      const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
      const expected = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
      expect(signWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(expected);
      // The reference library agrees, so the vector is checked against two implementations.
      expect(new Webhook(secret).sign('msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(1614265330 * 1000), '{"test": 2432232314}')).toBe(expected);
    });

    it('accepts a secret without the whsec_ prefix', () => {
      expect(signWebhook('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
        'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      );
    });

    it.each(['json', 'ndjson'] as const)('%s deliveries verify with the standardwebhooks library', async (format) => {
      const secret = newSecret();
      const fake = await start({ secret, rejectInvalidSignatures: true });
      const result = await destination(fake.url, { format, signing_secret: secret }).deliver(batch(2), { test: false });

      expect(result.outcome).toBe('delivered');
      const request = fake.received[0];
      expect(request?.signature).toBe('valid');
      expect(request?.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{26}$/);
      expect(Math.abs(Number(request?.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
      expect(request?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    });

    it('a receiver holding another secret refuses the delivery (401 → invalid)', async () => {
      const fake = await start({ secret: newSecret(), rejectInvalidSignatures: true });
      const result = await destination(fake.url, { signing_secret: newSecret() }).deliver(batch(1), { test: false });
      expect(fake.requests[0]?.signature).toBe('invalid');
      expect(result).toMatchObject({ outcome: 'invalid', status: 401 });
    });

    it('keeps the message id across retries of the same batch, and changes it for another batch', async () => {
      const secret = newSecret();
      const fake = await start({ secret });
      fake.failNext(1, { status: 503 });
      const target = destination(fake.url, { signing_secret: secret });
      expect((await target.deliver(batch(2), { test: false })).outcome).toBe('retry');
      expect((await target.deliver(batch(2), { test: false })).outcome).toBe('delivered');
      await target.deliver([auditEvent(7)], { test: false });

      const ids = fake.requests.map((request) => request.headers['webhook-id']);
      expect(ids[0]).toBe(ids[1]);
      expect(ids[2]).not.toBe(ids[0]);
      expect(fake.requests.every((request) => request.signature === 'valid')).toBe(true);
    });
  });

  describe('limits', () => {
    it('an event over the request budget arrives as a marked summary, not whole', async () => {
      const fake = await start();
      // Larger than the ingest API lets one event be, but a receiver's body cap may be far smaller than ours.
      const big: AuditEvent = { ...auditEvent(2), metadata: { pad: 'x'.repeat(GENERIC_HTTPS_MAX_BYTES) } };
      const result = await destination(fake.url).deliver([auditEvent(1), big, auditEvent(3)], { test: false });
      expect(result).toEqual({ outcome: 'delivered', status: 200 });
      const items = fake.received[0]?.body as { event: AuditEvent & { verity_truncated?: TruncationNote } }[];
      expect(items.map((entry) => entry.event.id)).toEqual(['evt_00001', 'evt_00002', 'evt_00003']);
      expect(items[1]?.event).toMatchObject({ metadata: {}, verity_truncated: { limit_bytes: GENERIC_HTTPS_MAX_BYTES, targets_total: 1, targets_kept: 1 } });
      expect(Buffer.byteLength(fake.received[0]?.rawBody ?? '')).toBeLessThanOrEqual(GENERIC_HTTPS_MAX_BYTES);
      expect(items[2]).toEqual(item(auditEvent(3)));
    });
  });

  describe('responses', () => {
    it.each([
      [201, 'delivered'],
      [204, 'delivered'],
      [400, 'invalid'],
      [401, 'invalid'],
      [404, 'invalid'],
      [408, 'retry'],
      [410, 'invalid'],
      [413, 'too_large'],
      [429, 'retry'],
      [500, 'retry'],
      [502, 'retry'],
      [504, 'retry'],
    ] as const)('HTTP %i → %s', async (status, outcome) => {
      const fake = await start();
      fake.failNext(1, { status });
      expect(await destination(fake.url).deliver(batch(1), { test: false })).toMatchObject({ outcome, status });
    });

    it('410 says the endpoint asked for deliveries to stop', async () => {
      const fake = await start();
      fake.failNext(1, { status: 410 });
      const result = await destination(fake.url).deliver(batch(1), { test: false });
      expect(result.outcome === 'invalid' && result.error).toMatch(/asked for deliveries to stop/);
    });

    it('429 honours Retry-After in seconds or as an HTTP date', async () => {
      const fake = await start();
      fake.failNext(1, { status: 429, retryAfter: '12' });
      fake.failNext(1, { status: 429, retryAfter: new Date(Date.now() + 30_000).toUTCString() });
      expect(await destination(fake.url).deliver(batch(1), { test: false })).toMatchObject({ outcome: 'retry', retryAfterMs: 12_000 });
      const dated = await destination(fake.url).deliver(batch(1), { test: false });
      const waited = dated.outcome === 'retry' ? (dated.retryAfterMs ?? -1) : -1;
      expect(waited).toBeGreaterThan(27_000);
      expect(waited).toBeLessThanOrEqual(30_000);
    });

    it('a closed port is a network error to retry', async () => {
      const result = await destination(`http://127.0.0.1:${await closedPort()}/hook`).deliver(batch(1), { test: false });
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
      const fake = await start();
      const target = genericHttps.create({ url: `http://localhost:${new URL(fake.url).port}/hook` }, { http: guarded, allowPrivate: false });
      const result = await target.deliver(batch(1), { test: false });
      expect(result.outcome).toBe('invalid');
      expect(result.outcome === 'invalid' && result.error).toMatch(/private, loopback and link-local addresses/);
      expect(fake.requests).toHaveLength(0);
    });

    // Node skips the lookup hook for IP literals; http.ts checks them itself.
    it('refuses a loopback IP literal', async () => {
      const fake = await start();
      const target = genericHttps.create({ url: `${fake.url}/hook` }, { http: guarded, allowPrivate: false });
      const result = await target.deliver(batch(1), { test: false });
      expect(result.outcome).toBe('invalid');
      expect(result.outcome === 'invalid' && result.error).toMatch(/private, loopback and link-local addresses/);
    });
  });
});
