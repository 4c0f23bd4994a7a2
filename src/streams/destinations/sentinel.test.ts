import { createServer } from 'node:net';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSentinelFake, type SentinelFake } from '../../../test/fakes/sentinel.js';
import type { AuditEvent } from '../../ingest/event.schema.js';
import { createHttpClient, type HttpClient } from '../net/http.js';
import type { DeliveryResult, Destination } from './destination.js';
import {
  azureSentinel,
  AzureSentinelConfigSchema,
  chunkRecords,
  createSentinelDestination,
  monitorScope,
  SENTINEL_MAX_BODY_BYTES,
  type AzureSentinelConfig,
} from './sentinel.js';

function event(i: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: `evt_${String(i).padStart(6, '0')}`,
    organization_id: 'org_01J0000000000000000000000B',
    action: 'user.signed_in',
    occurred_at: new Date(Date.UTC(2026, 8, 25, 14, 3, 7) + i).toISOString(),
    version: 1,
    actor: { id: 'user_1', type: 'user', name: 'Jane' },
    targets: [{ id: 'team_1', type: 'team' }],
    context: { location: '203.0.113.7', user_agent: 'curl/8' },
    metadata: {},
    ...overrides,
  };
}

const ctx = { test: false };
let fake: SentinelFake;
let http: HttpClient;
const destinations: Destination[] = [];
/** Every error text any test saw; none may contain the secret. */
const errors: string[] = [];

function config(overrides: Partial<AzureSentinelConfig> = {}): AzureSentinelConfig {
  return {
    tenant_id: fake.tenantId,
    client_id: fake.clientId,
    client_secret: fake.clientSecret,
    ingestion_endpoint: fake.url,
    dcr_immutable_id: fake.dcrImmutableId,
    stream_name: fake.streamName,
    authority_url: fake.url,
    ...overrides,
  };
}

function create(overrides: Partial<AzureSentinelConfig> = {}, now?: () => number, client: HttpClient = http): Destination {
  const destination = now === undefined ? createSentinelDestination(config(overrides), { http: client }) : createSentinelDestination(config(overrides), { http: client }, now);
  destinations.push(destination);
  return destination;
}

async function deliver(destination: Destination, events: AuditEvent[]): Promise<DeliveryResult> {
  const result = await destination.deliver(events, ctx);
  if (result.outcome !== 'delivered') errors.push(result.error);
  return result;
}

beforeAll(async () => {
  http = createHttpClient({ allowPrivate: true });
});

afterEach(async () => {
  await fake.close();
});

afterAll(async () => {
  await http.close();
  for (const error of errors) {
    expect(error).not.toContain('Xy8Q~fake.Secret_value');
    expect(error).not.toContain('Xy8Q%7Efake.Secret_value');
  }
});

describe('Sentinel Logs Ingestion: wire format', () => {
  it('gets a client-credentials token and posts gzip JSON rows in WorkOS shape to the DCR stream URL', async () => {
    fake = await startSentinelFake();
    const destination = create();
    const events = [event(1), event(2, { metadata: { plan: 'pro' } })];
    expect(await deliver(destination, events)).toMatchObject({ outcome: 'delivered', status: 204 });

    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.tokenRequests[0]?.path).toBe(`/${fake.tenantId}/oauth2/v2.0/token`);
    expect(fake.tokenRequests[0]?.form).toEqual({
      client_id: fake.clientId,
      client_secret: fake.clientSecret,
      grant_type: 'client_credentials',
      scope: 'https://monitor.azure.com//.default',
    });

    const request = fake.ingestionRequests[0];
    expect(request?.path).toBe(`/dataCollectionRules/${fake.dcrImmutableId}/streams/${fake.streamName}`);
    expect(request?.query).toEqual({ 'api-version': '2023-01-01' });
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['content-encoding']).toBe('gzip');
    expect(request?.headers.authorization).toMatch(/^Bearer eyJ/);
    expect(request?.headers['x-ms-client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(request?.wireBytes).toBeLessThan(request?.bodyBytes ?? 0);

    expect(fake.received).toEqual(
      events.map((e) => ({ TimeGenerated: e.occurred_at, id: e.id, event_type: e.action, organization_id: e.organization_id, data: e })),
    );
  });

  it('strips a trailing slash from the endpoints and normalises TimeGenerated to UTC', async () => {
    fake = await startSentinelFake();
    const destination = create({ ingestion_endpoint: `${fake.url}/`, authority_url: `${fake.url}/` });
    expect((await deliver(destination, [event(1, { occurred_at: '2026-09-25T16:03:07+02:00' })])).outcome).toBe('delivered');
    expect(fake.received[0]?.TimeGenerated).toBe('2026-09-25T14:03:07.000Z');
  });

  it('picks the sovereign-cloud audience from the authority', () => {
    expect(monitorScope('https://login.microsoftonline.com')).toBe('https://monitor.azure.com//.default');
    expect(monitorScope('https://login.microsoftonline.us')).toBe('https://monitor.azure.us//.default');
    expect(monitorScope('https://login.chinacloudapi.cn')).toBe('https://monitor.azure.cn//.default');
    expect(monitorScope('https://auth-proxy.example.us')).toBe('https://monitor.azure.com//.default');
  });
});

describe('Sentinel: token cache', () => {
  it('reuses one token across calls, and concurrent calls share one token request', async () => {
    fake = await startSentinelFake();
    const destination = create();
    await Promise.all([deliver(destination, [event(1)]), deliver(destination, [event(2)])]);
    await deliver(destination, [event(3)]);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.ingestionRequests).toHaveLength(3);
    expect(new Set(fake.ingestionRequests.map((r) => r.headers.authorization)).size).toBe(1);
  });

  it('fetches a new token five minutes before expires_in runs out', async () => {
    fake = await startSentinelFake({ tokenLifetimeSeconds: 3599 });
    let now = 1_000_000;
    const destination = create({}, () => now);
    await deliver(destination, [event(1)]);
    now += (3599 - 301) * 1000;
    await deliver(destination, [event(2)]);
    expect(fake.tokenRequests).toHaveLength(1);
    now += 2_000;
    await deliver(destination, [event(3)]);
    expect(fake.tokenRequests).toHaveLength(2);
  });

  it('refreshes once on 401 and resends the same rows', async () => {
    fake = await startSentinelFake();
    const destination = create();
    await deliver(destination, [event(1)]);
    fake.expireTokens();
    expect(await deliver(destination, [event(2)])).toMatchObject({ outcome: 'delivered' });
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.ingestionRequests.map((r) => r.status)).toEqual([204, 401, 204]);
    expect(fake.received.map((r) => r.id)).toEqual(['evt_000001', 'evt_000002']);
  });

  it('is invalid when a fresh token is refused too (and does not loop)', async () => {
    fake = await startSentinelFake();
    fake.failNext(5, { status: 401, code: 'InvalidToken', message: 'The provided access token is invalid.' });
    const result = await deliver(create(), [event(1)]);
    expect(result).toMatchObject({ outcome: 'invalid', status: 401 });
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.ingestionRequests).toHaveLength(2);
  });
});

describe('Sentinel: token endpoint errors', () => {
  it('a wrong secret is invalid, with Azure\'s description and without the secret', async () => {
    fake = await startSentinelFake({ echoSecretInErrors: true });
    const result = await deliver(create({ client_secret: 'Xy8Q~fake.Secret_value-WRONG' }), [event(1)]);
    expect(result.outcome).toBe('invalid');
    if (result.outcome !== 'invalid') return;
    expect(result.status).toBe(401);
    expect(result.error).toContain('invalid_client');
    expect(result.error).toContain('AADSTS7000215: Invalid client secret provided');
    expect(result.error).toContain('[redacted]');
    expect(result.error).not.toContain('Xy8Q~fake.Secret_value-WRONG');
    expect(result.error).not.toMatch(/[\r\n]/);
    expect(fake.ingestionRequests).toHaveLength(0);
  });

  it('an unknown client or tenant is invalid; a secret echoed back is redacted', async () => {
    fake = await startSentinelFake({ echoSecretInErrors: true });
    const client = await deliver(create({ client_id: '00000000-0000-0000-0000-000000000000' }), [event(1)]);
    expect(client).toMatchObject({ outcome: 'invalid', status: 400 });
    expect(client.outcome !== 'delivered' && client.error).toContain('AADSTS700016');
    expect(client.outcome !== 'delivered' && client.error).toContain('Submitted secret: [redacted]');
    const tenant = await deliver(create({ tenant_id: 'contoso.onmicrosoft.com' }), [event(1)]);
    expect(tenant).toMatchObject({ outcome: 'invalid', status: 400 });
    expect(tenant.outcome !== 'delivered' && tenant.error).toContain('AADSTS90002');
  });

  it('a 503 with Retry-After from the token endpoint is retried after that delay', async () => {
    fake = await startSentinelFake();
    fake.failTokenNext(1, { status: 503, code: 'temporarily_unavailable', retryAfter: '12' });
    expect(await deliver(create(), [event(1)])).toMatchObject({ outcome: 'retry', status: 503, retryAfterMs: 12_000 });
  });

  it('an unreachable authority is retried', async () => {
    fake = await startSentinelFake();
    const closedPort = await freePort();
    const result = await deliver(create({ authority_url: `http://127.0.0.1:${closedPort}` }), [event(1)]);
    expect(result.outcome).toBe('retry');
    expect(result.outcome !== 'delivered' && result.error).toMatch(/^token request to http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('an answer without access_token is invalid (wrong authority_url)', async () => {
    fake = await startSentinelFake();
    fake.failTokenNext(1, { status: 200, body: '<html>sign in</html>' });
    expect(await deliver(create(), [event(1)])).toMatchObject({ outcome: 'invalid', status: 200 });
    // A token response cut short must not leak the part of the token it holds.
    fake.failTokenNext(1, { status: 200, body: '{"token_type":"Bearer","expires_in":3599,"access_token":"eyJhbGciOi.partial-token' });
    const cut = await deliver(create(), [event(1)]);
    expect(cut.outcome !== 'delivered' && cut.error).not.toContain('partial-token');
  });
});

describe('Sentinel: ingestion errors', () => {
  it('429 and 5xx are retried, honouring Retry-After', async () => {
    fake = await startSentinelFake();
    const destination = create();
    fake.failNext(1, { status: 429, code: 'TooManyRequests', retryAfter: '7' });
    expect(await deliver(destination, [event(1)])).toMatchObject({ outcome: 'retry', status: 429, retryAfterMs: 7000 });
    fake.failNext(1, { status: 500, code: 'InternalServerError' });
    expect(await deliver(destination, [event(1)])).toMatchObject({ outcome: 'retry', status: 500 });
    fake.failNext(1, { status: 503, code: 'ServiceUnavailable', retryAfter: 'Fri, 31 Dec 2100 23:59:59 GMT' });
    const dated = await deliver(destination, [event(1)]);
    expect(dated.outcome === 'retry' && (dated.retryAfterMs ?? 0) > 0).toBe(true);
    expect(await deliver(destination, [event(1)])).toMatchObject({ outcome: 'delivered' });
  });

  it('403 is invalid with the role hint; 413 is too_large', async () => {
    fake = await startSentinelFake();
    const destination = create();
    fake.failNext(1, { status: 403, code: 'OperationFailed', message: 'The authentication token provided does not have access to ingest data for the data collection rule' });
    const forbidden = await deliver(destination, [event(1)]);
    expect(forbidden).toMatchObject({ outcome: 'invalid', status: 403 });
    expect(forbidden.outcome !== 'delivered' && forbidden.error).toContain('Monitoring Metrics Publisher');
    fake.failNext(1, { status: 413, code: 'ContentLengthLimitExceeded' });
    expect(await deliver(destination, [event(1)])).toMatchObject({ outcome: 'too_large', status: 413 });
  });

  it('a wrong DCR or stream is invalid', async () => {
    fake = await startSentinelFake();
    const dcr = await deliver(create({ dcr_immutable_id: 'dcr-ffffffffffffffffffffffffffffffff' }), [event(1)]);
    expect(dcr).toMatchObject({ outcome: 'invalid', status: 404 });
    expect(dcr.outcome !== 'delivered' && dcr.error).toContain('check ingestion_endpoint and dcr_immutable_id');
    expect(await deliver(create({ stream_name: 'Custom-Other_CL' }), [event(1)])).toMatchObject({ outcome: 'invalid', status: 400 });
  });

  it('a network failure on ingestion is retried', async () => {
    fake = await startSentinelFake();
    const port = await freePort();
    expect((await deliver(create({ ingestion_endpoint: `http://127.0.0.1:${port}` }), [event(1)])).outcome).toBe('retry');
  });
});

describe('Sentinel: size limits', () => {
  it('splits a batch into calls of at most 1,000,000 uncompressed bytes, in order', async () => {
    fake = await startSentinelFake({ maxBytes: SENTINEL_MAX_BODY_BYTES });
    const events = Array.from({ length: 600 }, (_, i) => event(i, { metadata: { blob: `${i}-${'x'.repeat(490)}`, more: 'y'.repeat(499), third: 'z'.repeat(499) } }));
    expect(await deliver(create(), events)).toMatchObject({ outcome: 'delivered', detail: '2 calls' });
    expect(fake.ingestionRequests.length).toBe(2);
    for (const request of fake.ingestionRequests) {
      expect(request.status).toBe(204);
      expect(request.bodyBytes).toBeLessThanOrEqual(SENTINEL_MAX_BODY_BYTES);
    }
    expect(fake.received.map((r) => r.id)).toEqual(events.map((e) => e.id));
  });

  it('reports the calls already accepted as partial when a later call fails', async () => {
    fake = await startSentinelFake();
    let calls = 0;
    const flaky: HttpClient = {
      timeoutMs: http.timeoutMs,
      async send(request) {
        if (request.url.includes('/dataCollectionRules/') && ++calls === 2) throw new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
        return http.send(request);
      },
      close: async () => undefined,
    };
    const events = Array.from({ length: 600 }, (_, i) => event(i, { metadata: { a: 'x'.repeat(500), b: 'y'.repeat(500), c: 'z'.repeat(499) } }));
    const result = await deliver(create({}, undefined, flaky), events);
    expect(result.outcome).toBe('partial');
    if (result.outcome !== 'partial') return;
    expect(result.accepted).toBe(fake.received.length);
    expect(result.accepted).toBeGreaterThan(0);
    expect(result.accepted).toBeLessThan(600);
    expect(result.error).toContain('ECONNRESET');
  });

  it('sends an event over 64 KB as a marked summary instead of a cut field', async () => {
    fake = await startSentinelFake();
    const metadata: Record<string, string> = {};
    for (let i = 0; i < 50; i++) metadata[`k${i}`] = 'v'.repeat(500);
    const big = event(1, { metadata, targets: Array.from({ length: 40 }, (_, i) => ({ id: `t${i}`, type: 'doc', metadata })) });
    expect(await deliver(create(), [big, event(2)])).toMatchObject({ outcome: 'delivered' });
    const data = fake.received[0]?.data as Record<string, unknown> & { verity_truncated: { original_bytes: number; targets_total: number } };
    expect(data.id).toBe(big.id);
    expect(data.metadata).toEqual({});
    expect(data.verity_truncated.targets_total).toBe(40);
    expect(data.verity_truncated.original_bytes).toBeGreaterThan(64_000);
    expect(JSON.stringify(data).length).toBeLessThanOrEqual(64_000);
    expect(fake.received[1]?.data).toEqual(event(2));
  });

  it('chunkRecords keeps every record and respects the cap exactly', () => {
    const records = ['{"a":1}', '{"b":22}', '{"c":333}'];
    expect(chunkRecords(records, 17)).toEqual([
      { body: '[{"a":1}]', count: 1 },
      { body: '[{"b":22}]', count: 1 },
      { body: '[{"c":333}]', count: 1 },
    ]);
    expect(chunkRecords(records, 18)).toEqual([{ body: '[{"a":1},{"b":22}]', count: 2 }, { body: '[{"c":333}]', count: 1 }]);
    expect(chunkRecords(records)).toEqual([{ body: '[{"a":1},{"b":22},{"c":333}]', count: 3 }]);
  });
});

describe('Sentinel: config schema', () => {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
  addFormats.default(ajv);
  const validate = ajv.compile(AzureSentinelConfigSchema);
  const valid = {
    tenant_id: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    client_id: '0b8d3f2e-5c1a-4e6b-9f7d-1a2b3c4d5e6f',
    client_secret: 's3cret',
    ingestion_endpoint: 'https://my-dce-abcd.westeurope-1.ingest.monitor.azure.com',
    dcr_immutable_id: 'dcr-0123456789abcdef0123456789abcdef',
    stream_name: 'Custom-VerityAudit_CL',
  };

  it('accepts a complete config and marks client_secret secret', () => {
    expect(validate({ ...valid })).toBe(true);
    expect(azureSentinel.secretFields).toEqual(['client_secret']);
    expect(azureSentinel.type).toBe('AzureSentinel');
  });

  it('rejects malformed ids, stream names and unknown fields', () => {
    for (const bad of [
      { client_id: 'not-a-guid' },
      { dcr_immutable_id: 'dcr-xyz' },
      { stream_name: 'VerityAudit_CL' },
      { stream_name: 'Custom-a/../b' },
      { ingestion_endpoint: 'ftp://x' },
      { extra: 1 },
    ]) {
      expect(validate({ ...valid, ...bad }), JSON.stringify(bad)).toBe(false);
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
