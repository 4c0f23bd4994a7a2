import { gunzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, startFakeS3, startScriptedS3, type FakeS3 } from '../../../test/fakes/s3-server.js';
import type { AuditEvent } from '../../ingest/event.schema.js';
import type { DeliveryResult, Destination } from './destination.js';
import type { HttpClient } from '../net/http.js';
import { gcs, GCS_DEFAULT_ENDPOINT } from './gcs.js';
import { destinationType } from './registry.js';

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

const BUCKET = 'verity-gcs';
const ORG = 'org_gcs';
const SECRET_MARKER = 'verity-test-secret';

function makeEvents(count: number): AuditEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `event_gcs_${String(i).padStart(4, '0')}`,
    organization_id: ORG,
    action: 'document.exported',
    occurred_at: new Date(Date.UTC(2026, 5, 7, 8, 9, 10, i)).toISOString(),
    version: 1,
    actor: { id: 'user_1', type: 'user' },
    targets: [],
    context: { location: '203.0.113.9' },
    metadata: {},
  }));
}

const messages: string[] = [];
function record(result: DeliveryResult): DeliveryResult {
  if (result.outcome !== 'delivered') messages.push(result.error);
  return result;
}
const open: Destination[] = [];

/** A GCS destination from a config validated as POST /log_streams would validate it. */
function gcsDestination(config: Record<string, unknown>, allowPrivate = true): Destination {
  const validated = validateConfig('GoogleCloudStorage', config);
  const destination = gcs.create(validated as Parameters<typeof gcs.create>[0], { allowPrivate, http: { timeoutMs: 60_000 } as HttpClient });
  open.push(destination);
  return destination;
}

let fake: FakeS3;
let baseConfig: Record<string, unknown>;

beforeAll(async () => {
  fake = await startFakeS3({ buckets: [BUCKET] });
  baseConfig = { bucket: BUCKET, hmac_access_key_id: fake.credentials.accessKeyId, hmac_secret: fake.credentials.secretAccessKey, endpoint: fake.endpoint };
});

afterAll(async () => {
  for (const destination of open) await destination.close?.();
  await fake.close();
  for (const message of messages) expect(message).not.toContain(SECRET_MARKER);
});

describe('Google Cloud Storage config', () => {
  it('is registered, seals hmac_secret and defaults the endpoint to the XML API', () => {
    expect(destinationType('GoogleCloudStorage')?.secretFields).toEqual(['hmac_secret']);
    const config = validateConfig('GoogleCloudStorage', { bucket: 'audit_logs.example', hmac_access_key_id: 'GOOG1EXAMPLE', hmac_secret: 'x'.repeat(40) });
    expect(config).toMatchObject({ endpoint: GCS_DEFAULT_ENDPOINT, object_per_event: false });
  });

  it('refuses S3-only fields', () => {
    expect(() => validateConfig('GoogleCloudStorage', { ...baseConfig, region: 'us-east-1' })).toThrow();
    expect(() => validateConfig('GoogleCloudStorage', { ...baseConfig, role_arn: 'arn:aws:iam::123456789012:role/x' })).toThrow();
  });
});

describe('Google Cloud Storage through the S3 code path', () => {
  it('writes gzip NDJSON batches path-style, against s3rver', async () => {
    const destination = gcsDestination({ ...baseConfig, prefix: 'verity' });
    const events = makeEvents(7);
    expect(await destination.deliver(events, { test: false })).toMatchObject({ outcome: 'delivered' });
    const keys = await fake.listKeys(BUCKET, `verity/${ORG}/`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^verity\/org_gcs\/year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\/\d+-[0-9a-f-]{36}\.ndjson\.gz$/);
    const object = await fake.getObject(BUCKET, keys[0] as string);
    expect(object.contentType).toBe('application/x-ndjson');
    expect(object.contentEncoding).toBe('gzip');
    const lines = gunzipSync(object.body).toString('utf8').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(events);
  });

  it('object_per_event writes the WorkOS layout', async () => {
    const destination = gcsDestination({ ...baseConfig, prefix: 'each', object_per_event: true });
    const events = makeEvents(3);
    expect(await destination.deliver(events, { test: false })).toMatchObject({ outcome: 'delivered' });
    expect(await fake.listKeys(BUCKET, 'each/')).toEqual(events.map((event) => `each/${ORG}/2026-06-07/${Date.parse(event.occurred_at)}_${event.id}.json`));
  });

  it('signs SigV4 for region auto with the HMAC key, path-style, without SDK checksum headers', async () => {
    const server = await startScriptedS3(() => null);
    try {
      const destination = gcsDestination({ ...baseConfig, endpoint: server.endpoint });
      expect(await destination.deliver(makeEvents(2), { test: false })).toMatchObject({ outcome: 'delivered' });
      expect(server.requests).toHaveLength(1);
      const [request] = server.requests;
      expect(request?.method).toBe('PUT');
      expect(decodeURIComponent(request?.url ?? '')).toMatch(new RegExp(`^/${BUCKET}/${ORG}/year=\\d{4}/month=`));
      expect(request?.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${fake.credentials.accessKeyId}/\\d{8}/auto/s3/aws4_request`));
      expect(request?.headers['content-encoding']).toBe('gzip');
      expect(Object.keys(request?.headers ?? {}).filter((name) => name.startsWith('x-amz-checksum') || name === 'x-amz-sdk-checksum-algorithm')).toEqual([]);
      expect(request?.headers['user-agent']).toContain('Verity-Log-Stream/1');
    } finally {
      await server.close();
    }
  });

  it('rejected HMAC keys are invalid and name the GCS fields, without the secret', async () => {
    const destination = gcsDestination({ ...baseConfig, hmac_access_key_id: 'GOOG1EUNKNOWN', hmac_secret: `${SECRET_MARKER}-gcs-wrong` });
    const result = record(await destination.deliver(makeEvents(1), { test: false }));
    expect(result).toMatchObject({ outcome: 'invalid', status: 403 });
    if (result.outcome === 'invalid') expect(result.error).toMatch(/^Google Cloud Storage InvalidAccessKeyId \(HTTP 403\): .*check hmac_access_key_id and hmac_secret/);
  });

  it('a receiver that is down is a retry; a loopback endpoint is refused unless private destinations are allowed', async () => {
    const down = record(await gcsDestination({ ...baseConfig, endpoint: `http://127.0.0.1:${await closedPort()}` }).deliver(makeEvents(1), { test: false }));
    expect(down).toMatchObject({ outcome: 'retry' });
    const refused = record(await gcsDestination(baseConfig, false).deliver(makeEvents(1), { test: false }));
    expect(refused).toMatchObject({ outcome: 'invalid' });
    if (refused.outcome === 'invalid') expect(refused.error).toMatch(/private, loopback and link-local addresses are not allowed/);
  });
});
