import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, startFakeS3, startScriptedS3, type FakeS3 } from '../../../test/fakes/s3-server.js';
import type { AuditEvent } from '../../ingest/event.schema.js';
import type { DeliveryResult, Destination } from './destination.js';
import type { HttpClient } from '../net/http.js';
import { destinationType } from './registry.js';
import { batchObjectKey, createObjectStoreDestination, eventObjectKey, keySegment, s3, type ObjectStoreOptions } from './s3.js';

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
addFormats.default(ajv);

/** Validates like POST /log_streams does (same ajv options: defaults applied), answering the config or the error paths. */
function validateConfig(type: 'S3' | 'GoogleCloudStorage', config: Record<string, unknown>): Record<string, unknown> {
  const schema = destinationType(type)?.configSchema;
  if (schema === undefined) throw new Error(`${type} is not registered`);
  const copy = structuredClone(config);
  const validate = ajv.compile(schema);
  if (!validate(copy)) throw new Error(JSON.stringify((validate.errors ?? []).map((error) => ({ path: error.instancePath, params: error.params, message: error.message }))));
  return copy;
}

const BUCKET = 'verity-audit';
const ORG = 'org_01JTESTORG';
const SECRET_MARKER = 'verity-test-secret';

function makeEvents(count: number, organizationId = ORG): AuditEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `event_${String(i).padStart(4, '0')}_${Math.random().toString(36).slice(2, 8)}`,
    organization_id: organizationId,
    action: 'user.signed_in',
    occurred_at: new Date(Date.UTC(2026, 2, 4, 5, 6, 7, i)).toISOString(),
    version: 1,
    actor: { id: `user_${i}`, type: 'user', name: 'Ada' },
    targets: [{ id: 'team_1', type: 'team' }],
    context: { location: '198.51.100.7', user_agent: 'vitest' },
    metadata: { index: i, unicode: 'héllo ✓' },
  }));
}

/** Every error message any test saw: at the end none of them may contain a secret. */
const messages: string[] = [];
function record(result: DeliveryResult): DeliveryResult {
  if (result.outcome !== 'delivered') messages.push(result.error);
  return result;
}

const open: Destination[] = [];
function track(destination: Destination): Destination {
  open.push(destination);
  return destination;
}

/** The object store talks through the AWS SDK: of the HTTP client it reads only the configured timeout. */
const sdkOnly = { timeoutMs: 60_000 } as HttpClient;

/** An S3 destination built from a config that went through the same validation as POST /log_streams. */
function s3Destination(config: Record<string, unknown>, allowPrivate = true): Destination {
  const validated = validateConfig('S3', config);
  return track(s3.create(validated as Parameters<typeof s3.create>[0], { allowPrivate, http: sdkOnly }));
}

let fake: FakeS3;
let baseConfig: Record<string, unknown>;

beforeAll(async () => {
  fake = await startFakeS3({ buckets: [BUCKET, 'verity-other'] });
  baseConfig = {
    bucket: BUCKET,
    region: 'us-east-1',
    access_key_id: fake.credentials.accessKeyId,
    secret_access_key: fake.credentials.secretAccessKey,
    endpoint: fake.endpoint,
    force_path_style: true,
  };
});

afterAll(async () => {
  for (const destination of open) await destination.close?.();
  await fake.close();
  // The whole point of the message care: not one error text may carry a secret.
  for (const message of messages) {
    expect(message).not.toContain(SECRET_MARKER);
    expect(message).not.toContain('assumed-secret');
    expect(message).not.toContain('assumed-session-token');
  }
});

describe('S3 config', () => {
  it('is registered with its secret field and validates with defaults', () => {
    const type = destinationType('S3');
    expect(type?.secretFields).toEqual(['secret_access_key']);
    const config = validateConfig('S3', { bucket: 'my-bucket', region: 'eu-west-1', access_key_id: 'AKIAEXAMPLE', secret_access_key: 'x'.repeat(40) });
    expect(config).toMatchObject({ force_path_style: false, object_per_event: false });
  });

  it('refuses bad buckets, prefixes, endpoints and an external_id without role_arn, naming fields only', () => {
    const secret = `${SECRET_MARKER}-schema`;
    const attempt = (extra: Record<string, unknown>): string => {
      try {
        validateConfig('S3', { bucket: 'my-bucket', region: 'eu-west-1', access_key_id: 'AKIAEXAMPLE', secret_access_key: secret, ...extra });
        return 'accepted';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(attempt({ bucket: 'Bad_Bucket' })).toContain('"path":"/bucket"');
    expect(attempt({ prefix: '/leading' })).toContain('"path":"/prefix"');
    expect(attempt({ prefix: 'a/../b' })).toContain('"path":"/prefix"');
    expect(attempt({ prefix: 'a//b' })).toContain('"path":"/prefix"');
    expect(attempt({ prefix: 'audit/verity' })).toBe('accepted');
    expect(attempt({ endpoint: 'ftp://example.com' })).toContain('"path":"/endpoint"');
    expect(attempt({ endpoint: 'https://user:pw@example.com' })).toContain('"path":"/endpoint"');
    expect(attempt({ external_id: 'abc123' })).toContain('"missingProperty":"role_arn"');
    expect(attempt({ role_arn: 'arn:aws:iam::123456789012:role/verity-writer', external_id: 'abc123' })).toBe('accepted');
    expect(attempt({ role_arn: 'not-an-arn' })).toContain('"path":"/role_arn"');
    const refusedSecret = attempt({ secret_access_key: 'short' });
    expect(refusedSecret).toContain('"path":"/secret_access_key"');
    expect(refusedSecret).not.toContain('"short"');
  });
});

describe('object keys', () => {
  it('encodes ids so they cannot add path levels or dot segments', () => {
    expect(keySegment('org_01ABC')).toBe('org_01ABC');
    expect(keySegment('a/b')).toBe('a%2Fb');
    expect(keySegment('..')).toBe('%2E%2E');
    expect(keySegment('.')).toBe('%2E');
  });

  it('partitions batches by delivery time in UTC and per-event objects by occurred_at', () => {
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    expect(batchObjectKey('p/org/', at, 'u-u-i-d')).toBe(`p/org/year=2026/month=01/day=02/hour=03/${at.getTime()}-u-u-i-d.ndjson.gz`);
    const [event] = makeEvents(1) as [AuditEvent];
    event.occurred_at = '2026-03-04T23:30:00.000-02:00';
    expect(eventObjectKey('p/org/', event)).toBe(`p/org/2026-03-05/${Date.parse(event.occurred_at)}_${event.id}.json`);
  });
});

describe('S3 against s3rver', () => {
  it('writes one gzip NDJSON object per batch, keyed by org and UTC delivery hour, events in order', async () => {
    const destination = s3Destination({ ...baseConfig, prefix: 'audit/verity/' });
    const events = makeEvents(25);
    const before = Date.now();
    const result = await destination.deliver(events, { test: false });
    const after = Date.now();
    expect(result).toMatchObject({ outcome: 'delivered' });

    const keys = await fake.listKeys(BUCKET, `audit/verity/${ORG}/`);
    expect(keys).toHaveLength(1);
    const key = keys[0] as string;
    const match = /^audit\/verity\/org_01JTESTORG\/year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/hour=(\d{2})\/(\d+)-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\.ndjson\.gz$/.exec(key);
    expect(match).not.toBeNull();
    const [, year, month, day, hour, epochMs] = match as RegExpExecArray;
    const deliveredAt = new Date(Number(epochMs));
    expect(deliveredAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(deliveredAt.getTime()).toBeLessThanOrEqual(after);
    expect(deliveredAt.toISOString().slice(0, 13)).toBe(`${year}-${month}-${day}T${hour}`);

    const object = await fake.getObject(BUCKET, key);
    expect(object.contentType).toBe('application/x-ndjson');
    expect(object.contentEncoding).toBe('gzip');
    expect(object.metadata).toMatchObject({ 'verity-event-count': '25', 'verity-first-event-id': events[0]?.id, 'verity-last-event-id': events[24]?.id });
    const text = gunzipSync(object.body).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(events);
  });

  it('puts objects directly under the organization when there is no prefix', async () => {
    const destination = s3Destination({ ...baseConfig, bucket: 'verity-other' });
    expect(await destination.deliver(makeEvents(2, 'org_noprefix'), { test: true })).toMatchObject({ outcome: 'delivered' });
    const keys = await fake.listKeys('verity-other');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^org_noprefix\/year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\/\d+-[0-9a-f-]{36}\.ndjson\.gz$/);
  });

  it('object_per_event writes one JSON object per event in the WorkOS layout, idempotently', async () => {
    const destination = s3Destination({ ...baseConfig, prefix: 'per-event', object_per_event: true });
    expect(destination.limits.maxEvents).toBeLessThanOrEqual(100);
    const events = makeEvents(20, 'org_perevent');
    expect(await destination.deliver(events, { test: false })).toMatchObject({ outcome: 'delivered' });

    const keys = await fake.listKeys(BUCKET, 'per-event/org_perevent/');
    const expected = events.map((event) => `per-event/org_perevent/2026-03-04/${Date.parse(event.occurred_at)}_${event.id}.json`).sort();
    expect(keys).toEqual(expected);
    for (const event of events.slice(0, 3)) {
      const object = await fake.getObject(BUCKET, `per-event/org_perevent/2026-03-04/${Date.parse(event.occurred_at)}_${event.id}.json`);
      expect(object.contentType).toBe('application/json');
      expect(object.contentEncoding).toBeUndefined();
      expect(JSON.parse(object.body.toString('utf8'))).toEqual(event);
    }

    // A retried or replayed batch overwrites the same objects rather than adding duplicates.
    expect(await destination.deliver(events, { test: false })).toMatchObject({ outcome: 'delivered' });
    expect(await fake.listKeys(BUCKET, 'per-event/org_perevent/')).toEqual(expected);
  });

  it('an unknown access key is invalid and says which fields to fix, without the secret', async () => {
    const destination = s3Destination({ ...baseConfig, access_key_id: 'AKIANOTREGISTERED', secret_access_key: `${SECRET_MARKER}-wrong-key` });
    const result = record(await destination.deliver(makeEvents(1), { test: false }));
    expect(result).toMatchObject({ outcome: 'invalid', status: 403 });
    if (result.outcome !== 'invalid') return;
    expect(result.error).toContain('InvalidAccessKeyId');
    expect(result.error).toContain('access_key_id and secret_access_key');
  });

  it('a missing bucket is invalid and names the bucket', async () => {
    const destination = s3Destination({ ...baseConfig, bucket: 'no-such-bucket' });
    const result = record(await destination.deliver(makeEvents(1), { test: false }));
    expect(result).toMatchObject({ outcome: 'invalid', status: 404 });
    if (result.outcome === 'invalid') expect(result.error).toMatch(/NoSuchBucket.*bucket "no-such-bucket" does not exist/);
  });

  it('a receiver that is down is a retry', async () => {
    const destination = s3Destination({ ...baseConfig, endpoint: `http://127.0.0.1:${await closedPort()}` });
    const result = record(await destination.deliver(makeEvents(1), { test: false }));
    expect(result).toMatchObject({ outcome: 'retry' });
    if (result.outcome === 'retry') expect(result.error).toMatch(/^S3: connect ECONNREFUSED/);
  });

  it('refuses loopback endpoints, by IP literal and by name, unless private destinations are allowed', async () => {
    for (const endpoint of [fake.endpoint, `http://localhost:${fake.port}`]) {
      const destination = s3Destination({ ...baseConfig, endpoint }, false);
      const result = record(await destination.deliver(makeEvents(1), { test: false }));
      expect(result).toMatchObject({ outcome: 'invalid' });
      if (result.outcome === 'invalid') expect(result.error).toMatch(/private, loopback and link-local addresses are not allowed/);
    }
    // IPv6 literals too (a loopback one, so that a broken guard still sends nothing off this machine).
    const ipv6 = s3Destination({ ...baseConfig, endpoint: `http://[::1]:${fake.port}` }, false);
    const result = record(await ipv6.deliver(makeEvents(1), { test: false }));
    expect(result).toMatchObject({ outcome: 'invalid' });
    if (result.outcome === 'invalid') expect(result.error).toContain('(::1)');
  });
});

describe('S3 error mapping (scripted endpoint)', () => {
  const options = (endpoint: string, extra: Partial<ObjectStoreOptions> = {}): ObjectStoreOptions => ({
    service: 'S3',
    credentialFields: 'access_key_id and secret_access_key',
    bucket: BUCKET,
    region: 'us-east-1',
    accessKeyId: 'AKIASCRIPTED',
    secretAccessKey: `${SECRET_MARKER}-scripted-0123456789`,
    endpoint,
    forcePathStyle: true,
    objectPerEvent: false,
    ...extra,
  });

  it.each([
    [403, 'AccessDenied', 'invalid', /may not write to bucket "verity-audit"/],
    [403, 'SignatureDoesNotMatch', 'invalid', /credentials were rejected; check access_key_id and secret_access_key/],
    [400, 'AuthorizationHeaderMalformed', 'invalid', /and the region/],
    [301, 'PermanentRedirect', 'invalid', /check region\/endpoint/],
    [400, 'EntityTooLarge', 'too_large', /too large/],
    [413, 'RequestEntityTooLarge', 'too_large', /too large/],
    [503, 'SlowDown', 'retry', /SlowDown/],
    [500, 'InternalError', 'retry', /InternalError/],
    [400, 'RequestTimeout', 'retry', /RequestTimeout/],
    [400, 'InvalidArgument', 'invalid', /InvalidArgument/],
  ] as const)('HTTP %i %s → %s', async (status, code, outcome, pattern) => {
    const server = await startScriptedS3(() => ({ status, code, message: `scripted ${code}` }));
    try {
      const destination = track(createObjectStoreDestination(options(server.endpoint), { allowPrivate: true }));
      const result = record(await destination.deliver(makeEvents(2), { test: false }));
      expect(result).toMatchObject({ outcome, status });
      if (result.outcome !== 'delivered') expect(result.error).toMatch(pattern);
      expect(server.requests).toHaveLength(1); // the engine retries, not the SDK
    } finally {
      await server.close();
    }
  });

  it('an endpoint answering something other than S3 XML is explained, not reported in the words of the SDK', async () => {
    // Two ways the SDK words it: an HTML page ("UnknownError"), a plain-text body (a deserialization error).
    const answers = [
      { status: 403, type: 'text/html', body: '<html><body>Forbidden by the corporate proxy</body></html>' },
      { status: 403, type: 'text/plain', body: 'denied' },
    ];
    let answer = 0;
    const proxy = http.createServer((_request, response) => {
      const { status, type, body } = answers[answer] ?? { status: 500, type: 'text/plain', body: '' };
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as AddressInfo;
    try {
      const destination = track(createObjectStoreDestination(options(`http://127.0.0.1:${port}`), { allowPrivate: true }));
      for (answer = 0; answer < answers.length; answer++) {
        const result = record(await destination.deliver(makeEvents(1), { test: false }));
        expect(result.outcome).toBe('invalid');
        if (result.outcome === 'invalid') {
          expect(result.error).toBe('S3 (HTTP 403): the endpoint answered with a body that is not an S3 error document (is this an S3-compatible endpoint, or is a proxy answering in its place?)');
        }
      }
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it('a receiver slower than the timeout is a retry', async () => {
    const sockets = new Set<Socket>();
    const silent = http.createServer(() => undefined); // accepts the request, never answers
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const destination = track(createObjectStoreDestination(options(`http://127.0.0.1:${port}`, { timeoutMs: 300 }), { allowPrivate: true }));
      const started = Date.now();
      const result = record(await destination.deliver(makeEvents(1), { test: false }));
      expect(result).toMatchObject({ outcome: 'retry', error: 'S3: no response within 300 ms' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('object_per_event: a failure midway is partial, counting only the unbroken run of successes', async () => {
    const events = makeEvents(12);
    const failing = events[5]?.id as string;
    const server = await startScriptedS3((request) => (request.url.includes(failing) ? { status: 503, code: 'SlowDown', message: 'slow down' } : null));
    try {
      const destination = track(createObjectStoreDestination(options(server.endpoint, { objectPerEvent: true }), { allowPrivate: true }));
      const result = record(await destination.deliver(events, { test: false }));
      expect(result).toMatchObject({ outcome: 'partial', accepted: 5, status: 503 });
      if (result.outcome === 'partial') expect(result.error).toMatch(/^5 of 12 objects written, then: S3 SlowDown/);

      // Resending from the gap: the first event fails, so this is a plain retry.
      const again = record(await destination.deliver(events.slice(5), { test: false }));
      expect(again).toMatchObject({ outcome: 'retry', status: 503 });
    } finally {
      await server.close();
    }
  });

  it('scrubs secrets a server echoes back into its error message', async () => {
    const secret = `${SECRET_MARKER}-echoed-0123456789`;
    const server = await startScriptedS3(() => ({ status: 400, code: 'InvalidArgument', message: `bad request signed with ${secret}` }));
    try {
      const destination = track(createObjectStoreDestination(options(server.endpoint, { secretAccessKey: secret }), { allowPrivate: true }));
      const result = record(await destination.deliver(makeEvents(1), { test: false }));
      expect(result).toMatchObject({ outcome: 'invalid' });
      if (result.outcome === 'invalid') {
        expect(result.error).not.toContain(secret);
        expect(result.error).toContain('[redacted]');
      }
    } finally {
      await server.close();
    }
  });
});

describe('S3 with role_arn (STS AssumeRole)', () => {
  /** A fake STS Query API: AssumeRole answers temporary credentials, or the scripted error. */
  async function startFakeSts(error: { status: number; code: string } | null): Promise<{ endpoint: string; calls: URLSearchParams[]; authorizations: string[]; close(): Promise<void> }> {
    const calls: URLSearchParams[] = [];
    const authorizations: string[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        calls.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        authorizations.push(req.headers.authorization ?? '');
        if (error !== null) {
          res
            .writeHead(error.status, { 'content-type': 'text/xml' })
            .end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${error.code}</Code><Message>User is not authorized to perform sts:AssumeRole</Message></Error><RequestId>r1</RequestId></ErrorResponse>`);
          return;
        }
        const expiration = new Date(Date.now() + 3600_000).toISOString();
        res.writeHead(200, { 'content-type': 'text/xml' }).end(
          `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
            `<AccessKeyId>ASIAASSUMEDKEY</AccessKeyId><SecretAccessKey>assumed-secret-0123456789</SecretAccessKey>` +
            `<SessionToken>assumed-session-token-abcdef</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
            `<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/writer/verity-log-stream</Arn><AssumedRoleId>AROA:verity</AssumedRoleId></AssumedRoleUser>` +
            `</AssumeRoleResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></AssumeRoleResponse>`,
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { endpoint: `http://127.0.0.1:${port}`, calls, authorizations, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  const roleArn = 'arn:aws:iam::123456789012:role/writer';
  const options = (endpoint: string, stsEndpoint: string): ObjectStoreOptions => ({
    service: 'S3',
    credentialFields: 'access_key_id and secret_access_key',
    bucket: BUCKET,
    region: 'eu-west-1',
    accessKeyId: 'AKIABASEKEY',
    secretAccessKey: `${SECRET_MARKER}-base-0123456789`,
    endpoint,
    forcePathStyle: true,
    objectPerEvent: false,
    assumeRole: { roleArn, externalId: 'ext-42', stsEndpoint },
  });

  it('assumes the role with the base key and writes with the session credentials, caching them', async () => {
    const sts = await startFakeSts(null);
    const server = await startScriptedS3((request) =>
      request.headers['x-amz-security-token'] === 'assumed-session-token-abcdef' ? null : { status: 403, code: 'AccessDenied', message: 'no session token' },
    );
    try {
      const destination = track(createObjectStoreDestination(options(server.endpoint, sts.endpoint), { allowPrivate: true }));
      expect(await destination.deliver(makeEvents(2), { test: false })).toMatchObject({ outcome: 'delivered' });
      expect(await destination.deliver(makeEvents(2), { test: false })).toMatchObject({ outcome: 'delivered' });
      expect(sts.calls).toHaveLength(1);
      const call = sts.calls[0] as URLSearchParams;
      expect(call.get('Action')).toBe('AssumeRole');
      expect(call.get('RoleArn')).toBe(roleArn);
      expect(call.get('ExternalId')).toBe('ext-42');
      expect(call.get('RoleSessionName')).toBe('verity-log-stream');
      expect(sts.authorizations[0]).toContain('Credential=AKIABASEKEY/');
      expect(server.requests.map((request) => request.headers.authorization)).toEqual([
        expect.stringContaining('Credential=ASIAASSUMEDKEY/') as unknown,
        expect.stringContaining('Credential=ASIAASSUMEDKEY/') as unknown,
      ]);
    } finally {
      await sts.close();
      await server.close();
    }
  });

  it('a refused AssumeRole is invalid and points at the trust policy; STS being down is a retry', async () => {
    const sts = await startFakeSts({ status: 403, code: 'AccessDenied' });
    const server = await startScriptedS3(() => null);
    try {
      const destination = track(createObjectStoreDestination(options(server.endpoint, sts.endpoint), { allowPrivate: true }));
      const result = record(await destination.deliver(makeEvents(1), { test: false }));
      expect(result).toMatchObject({ outcome: 'invalid', status: 403 });
      if (result.outcome === 'invalid') expect(result.error).toMatch(/AssumeRole of role_arn arn:aws:iam::123456789012:role\/writer failed: AccessDenied.*trust policy and external_id/);
      expect(server.requests).toHaveLength(0);

      const down = track(createObjectStoreDestination(options(server.endpoint, `http://127.0.0.1:${await closedPort()}`), { allowPrivate: true }));
      const retry = record(await down.deliver(makeEvents(1), { test: false }));
      expect(retry).toMatchObject({ outcome: 'retry' });
      if (retry.outcome === 'retry') expect(retry.error).toMatch(/AssumeRole.*ECONNREFUSED/);
    } finally {
      await sts.close();
      await server.close();
    }
  });

  it('scrubs the issued session secrets from later error messages', async () => {
    const sts = await startFakeSts(null);
    const server = await startScriptedS3((request) => ({ status: 400, code: 'InvalidArgument', message: `token ${String(request.headers['x-amz-security-token'])} not accepted` }));
    try {
      const destination = track(createObjectStoreDestination(options(server.endpoint, sts.endpoint), { allowPrivate: true }));
      const result = record(await destination.deliver(makeEvents(1), { test: false }));
      expect(result).toMatchObject({ outcome: 'invalid' });
      if (result.outcome === 'invalid') expect(result.error).toBe('S3 InvalidArgument (HTTP 400): token [redacted] not accepted');
    } finally {
      await sts.close();
      await server.close();
    }
  });
});
