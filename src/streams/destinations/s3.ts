import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Type, type Static } from 'typebox';
import type { AuditEvent } from '../../ingest/event.schema.js';
import { ForbiddenAddressError, guardedLookup, isForbiddenAddress } from '../net/address-guard.js';
import { classifyNetworkError, parseRetryAfter, type DeliveryResult, type Destination, type DestinationDeps, type DestinationType } from './destination.js';
import { eventJson } from './event-json.js';
import { redactResult } from './redact-secrets.js';

const gzipAsync = promisify(gzip);

/** Key prefix: S3 "safe" characters, no leading slash, no empty, `.` or `..` segments (MinIO rejects those). */
export const KEY_PREFIX_PATTERN = "^(?!/)(?!.*//)(?!(.*/)?\\.\\.?(/|$))[A-Za-z0-9!_.*'()=/-]{1,512}$";
/** S3 API base for S3-compatible stores and tests; no query, fragment or user info. */
export const ENDPOINT_PATTERN = '^https?://[^\\s/?#@]+(/[^\\s?#@]*)?$';

export const S3ConfigSchema = Type.Object(
  {
    bucket: Type.String({ pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', description: 'Bucket name: 3–63 lowercase letters, digits, dots and hyphens.' }),
    region: Type.String({ pattern: '^[a-z0-9-]{2,32}$', description: "The bucket's region, e.g. us-east-1 ('auto' for Cloudflare R2)." }),
    prefix: Type.Optional(Type.String({ pattern: KEY_PREFIX_PATTERN, description: 'Key prefix; objects go under {prefix}/{organization_id}/.' })),
    access_key_id: Type.String({ pattern: '^[^\\s/]{3,128}$' }),
    secret_access_key: Type.String({ minLength: 8, maxLength: 256 }),
    endpoint: Type.Optional(Type.String({ format: 'uri', pattern: ENDPOINT_PATTERN, maxLength: 2048, description: 'S3 API base URL for MinIO, R2 and other S3-compatible stores.' })),
    force_path_style: Type.Optional(Type.Boolean({ default: false, description: 'Address buckets as {endpoint}/{bucket} instead of {bucket}.{endpoint}.' })),
    role_arn: Type.Optional(Type.String({ pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$', description: 'IAM role assumed (STS AssumeRole) with the access key before writing.' })),
    external_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9+=,.@:/_-]{2,1224}$', description: "ExternalId the role's trust policy requires; needs role_arn." })),
    object_per_event: Type.Optional(Type.Boolean({ default: false, description: 'One JSON object per event (WorkOS layout) instead of gzip NDJSON batches.' })),
  },
  // An external id alone would be silently ignored; refusing it surfaces the missing role_arn at save time.
  { additionalProperties: false, dependencies: { external_id: ['role_arn'] } },
);
export type S3Config = Static<typeof S3ConfigSchema>;

/** Everything the object-store code path needs; S3 and GCS configs both map onto it. */
export interface ObjectStoreOptions {
  /** Service name for error messages, e.g. "S3" or "Google Cloud Storage". */
  service: string;
  /** The config fields holding the key pair, named in credential errors so the customer knows what to fix. */
  credentialFields: string;
  bucket: string;
  region: string;
  prefix?: string | undefined;
  accessKeyId: string;
  secretAccessKey: string;
  endpoint?: string | undefined;
  forcePathStyle: boolean;
  objectPerEvent: boolean;
  assumeRole?: { roleArn: string; externalId?: string | undefined; stsEndpoint?: string | undefined } | undefined;
  /** Whole-request deadline; the engine retries after it. */
  timeoutMs?: number | undefined;
}

/** Batches: S3 takes far more per object, but 10,000 events / 10 MB keeps an object a quick download. */
export const BATCH_LIMITS = { maxEvents: 10_000, maxBytes: 10 * 1024 * 1024 } as const;
/** Per-event objects: one PUT each, so a batch is kept small enough to finish well within the timeout. */
export const PER_EVENT_LIMITS = { maxEvents: 100, maxBytes: 10 * 1024 * 1024 } as const;
export const PER_EVENT_CONCURRENCY = 8;
const DEFAULT_TIMEOUT_MS = 60_000;
const CREDENTIAL_REFRESH_MARGIN_MS = 5 * 60_000;
const USER_AGENT = 'Verity-Log-Stream/1';

/**
 * The address guard for the SDK: agents whose DNS lookup refuses private addresses. Node skips `lookup`
 * entirely when the host is an IP literal (http://127.0.0.1, http://169.254.169.254), so createConnection
 * also refuses forbidden literals itself; without that the guard would only cover hostnames.
 */
function guardedAgent<A extends http.Agent>(agent: A, allowPrivate: boolean): A {
  if (allowPrivate) return agent;
  const connect = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    const host = (options.host ?? options.hostname ?? '').replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0 && isForbiddenAddress(host)) {
      // Node's Agent accepts an error through the callback when no socket is returned; it fails the request.
      const error = new ForbiddenAddressError(host, host);
      if (callback === undefined) throw error;
      process.nextTick(() => (callback as (err: Error | null) => void)(error));
      return undefined;
    }
    return connect(options, callback);
  };
  return agent;
}

function guardedRequestHandler(allowPrivate: boolean, timeoutMs: number): NodeHttpHandler {
  const agentOptions = { keepAlive: true, maxSockets: 2 * PER_EVENT_CONCURRENCY, lookup: guardedLookup(allowPrivate) };
  return new NodeHttpHandler({
    httpAgent: guardedAgent(new http.Agent(agentOptions), allowPrivate),
    httpsAgent: guardedAgent(new https.Agent(agentOptions), allowPrivate),
    // A shorter configured deadline must bound the connect too, or a black-holed host outlives it.
    connectionTimeout: Math.min(10_000, timeoutMs),
    requestTimeout: timeoutMs,
    throwOnRequestTimeout: true,
  });
}

/** Settings shared by the S3 and STS clients so that nothing on Verity's host leaks into a customer's stream. */
const isolatedClientSettings = {
  // The engine owns retries (backoff, Retry-After, states); SDK retries would only hide them.
  maxAttempts: 1,
  // AWS_ENDPOINT_URL / ~/.aws/config endpoint_url on Verity's host must never redirect a customer's events.
  ignoreConfiguredEndpointUrls: true,
  customUserAgent: USER_AGENT,
} as const;

type Credentials = Exclude<NonNullable<S3ClientConfig['credentials']>, (...args: never[]) => unknown>;

/** A failure to obtain credentials, already classified: the SDK rethrows it from `send`. */
class CredentialsError extends Error {
  constructor(readonly result: DeliveryResult) {
    super(result.outcome === 'delivered' ? 'credentials' : result.error);
    this.name = 'CredentialsError';
  }
}

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $response?: { headers?: Record<string, string | undefined> };
}

function sdkError(error: unknown): { code: string; status: number | undefined; message: string; retryAfter: string | null } {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const status = typeof shape.$metadata?.httpStatusCode === 'number' ? shape.$metadata.httpStatusCode : undefined;
  const code = typeof shape.Code === 'string' ? shape.Code : typeof shape.name === 'string' ? shape.name : 'Error';
  const raw = typeof shape.message === 'string' ? shape.message : String(error);
  // An answer that is not an S3 XML error document reaches us in the SDK's own words ("Deserialization
  // error: … inspect the hidden field {error}.$response", or a bare "UnknownError"), which mean nothing to
  // a customer's admin: say what it means instead.
  const opaque = /Deserialization error|XML parse error/i.test(raw) || ((code === 'Unknown' || code === 'UnknownError') && /^UnknownError$/.test(raw));
  return {
    code: opaque ? '' : code,
    status,
    message: opaque ? 'the endpoint answered with a body that is not an S3 error document (is this an S3-compatible endpoint, or is a proxy answering in its place?)' : raw,
    retryAfter: shape.$response?.headers?.['retry-after'] ?? null,
  };
}

function findCredentialsError(error: unknown): CredentialsError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = (current as Error & { cause?: unknown }).cause, depth++) {
    if (current instanceof CredentialsError) return current;
  }
  return undefined;
}

const RETRYABLE_CODES = new Set(['SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeTooSkewed', 'ExpiredToken', 'TokenRefreshRequired', 'Throttling', 'ThrottlingException', 'TooManyRequests']);
const CREDENTIAL_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'InvalidSecurity', 'AuthorizationHeaderMalformed', 'InvalidClientTokenId']);

/** Maps an S3 (or S3-compatible) failure to what the engine should do, with a message that says what to fix. */
function classifyPutError(error: unknown, options: ObjectStoreOptions): DeliveryResult {
  const credentials = findCredentialsError(error);
  if (credentials !== undefined) return credentials.result;
  const { code, status, message, retryAfter } = sdkError(error);
  if (status === undefined) {
    // The SDK resolves the endpoint before sending: a bucket/region/endpoint it cannot address is a config error.
    if (code === 'EndpointError') return { outcome: 'invalid', error: `${options.service}: cannot address bucket "${options.bucket}" (check bucket, region, endpoint): ${message.slice(0, 300)}` };
    const network = classifyNetworkError(error);
    if (network.outcome !== 'retry') return network;
    if (code === 'TimeoutError' || code === 'AbortError') return { ...network, error: `${options.service}: no response within ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` };
    return { ...network, error: `${options.service}: ${network.error}` };
  }
  const server = message.slice(0, 300);
  const head = code === '' ? `${options.service} (HTTP ${status})` : `${options.service} ${code} (HTTP ${status})`;
  const bucket = `bucket "${options.bucket}"`;
  if (code === 'EntityTooLarge' || status === 413) return { outcome: 'too_large', status, error: `${head}: the object is too large: ${server}` };
  if (RETRYABLE_CODES.has(code) || status === 408 || status === 429 || status >= 500) {
    return { outcome: 'retry', status, error: `${head}: ${server}`, retryAfterMs: parseRetryAfter(retryAfter) };
  }
  if (CREDENTIAL_CODES.has(code)) return { outcome: 'invalid', status, error: `${head}: the credentials were rejected; check ${options.credentialFields}${code === 'AuthorizationHeaderMalformed' ? ' and the region' : ''}: ${server}` };
  if (code === 'NoSuchBucket') return { outcome: 'invalid', status, error: `${head}: ${bucket} does not exist: ${server}` };
  if (code === 'AccessDenied' || code === 'AllAccessDisabled' || code === 'AccountProblem') {
    return { outcome: 'invalid', status, error: `${head}: these credentials may not write to ${bucket} (PutObject permission needed): ${server}` };
  }
  if (code === 'PermanentRedirect' || status === 301 || status === 307) {
    return { outcome: 'invalid', status, error: `${head}: ${bucket} is not served at this endpoint or region; check region/endpoint: ${server}` };
  }
  // Other 4xx (and 401/403/404 without a known code) mean the request is wrong for this bucket: retrying cannot fix it.
  return { outcome: 'invalid', status, error: `${head}: ${server}` };
}

/**
 * STS AssumeRole with the configured key pair, cached until five minutes before expiry. Failures are thrown
 * classified (CredentialsError) so that a trust-policy refusal makes the stream `invalid`, an outage `error`.
 */
function assumeRoleCredentials(
  options: ObjectStoreOptions & { assumeRole: NonNullable<ObjectStoreOptions['assumeRole']> },
  sts: STSClient,
  learnSecret: (secret: string) => void,
): { provider: () => Promise<Credentials>; invalidate: () => void } {
  let cached: { credentials: Credentials; refreshAt: number } | undefined;
  let inflight: Promise<Credentials> | undefined;
  const fetchCredentials = async (): Promise<Credentials> => {
    try {
      const response = await sts.send(
        new AssumeRoleCommand({
          RoleArn: options.assumeRole.roleArn,
          RoleSessionName: 'verity-log-stream',
          ExternalId: options.assumeRole.externalId,
          DurationSeconds: 3600,
        }),
      );
      const issued = response.Credentials;
      if (issued?.AccessKeyId === undefined || issued.SecretAccessKey === undefined || issued.SessionToken === undefined) {
        throw new CredentialsError({ outcome: 'retry', error: 'STS AssumeRole answered without credentials' });
      }
      learnSecret(issued.SecretAccessKey);
      learnSecret(issued.SessionToken);
      const expiration = issued.Expiration ?? new Date(Date.now() + 15 * 60_000);
      const credentials: Credentials = { accessKeyId: issued.AccessKeyId, secretAccessKey: issued.SecretAccessKey, sessionToken: issued.SessionToken, expiration };
      cached = { credentials, refreshAt: expiration.getTime() - CREDENTIAL_REFRESH_MARGIN_MS };
      return credentials;
    } catch (error) {
      if (error instanceof CredentialsError) throw error;
      const { code, status, message } = sdkError(error);
      const head = `STS AssumeRole of role_arn ${options.assumeRole.roleArn} failed`;
      if (status === undefined) {
        const network = classifyNetworkError(error);
        throw new CredentialsError(network.outcome === 'delivered' ? network : { ...network, error: `${head}: ${network.error}` });
      }
      const detail = `${head}: ${code} (HTTP ${status}): ${message.slice(0, 300)}`;
      if (status === 429 || status >= 500 || RETRYABLE_CODES.has(code)) throw new CredentialsError({ outcome: 'retry', status, error: detail });
      throw new CredentialsError({
        outcome: 'invalid',
        status,
        error: `${detail} (check ${options.credentialFields}, the role's trust policy${options.assumeRole.externalId === undefined ? '' : ' and external_id'})`,
      });
    }
  };
  return {
    provider: async () => {
      if (cached !== undefined && Date.now() < cached.refreshAt) return cached.credentials;
      inflight ??= fetchCredentials().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
    invalidate: () => {
      cached = undefined;
    },
  };
}

/** A key segment from an id: URI-encoded so `/` cannot add levels, and `.`/`..` cannot become path segments. */
export function keySegment(value: string): string {
  const encoded = encodeURIComponent(value);
  return /^\.+$/.test(encoded) ? encoded.replaceAll('.', '%2E') : encoded;
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/**
 * Batch objects are partitioned by delivery time (UTC), not by the events' occurred_at: a batch spans many
 * occurred_at values (a backfill or replay can span months), occurred_at is asserted by the client, and
 * consumers that load "the partitions since my last run" (Athena, Snowflake, Splunk's S3 input) would never
 * see late or replayed events written into partitions they already processed. Arrival-time partitions only
 * grow, as with Firehose and Vector; each event's own time is in the object.
 */
export function batchObjectKey(base: string, deliveredAt: Date, id: string = randomUUID()): string {
  const y = pad(deliveredAt.getUTCFullYear(), 4);
  return `${base}year=${y}/month=${pad(deliveredAt.getUTCMonth() + 1)}/day=${pad(deliveredAt.getUTCDate())}/hour=${pad(deliveredAt.getUTCHours())}/${deliveredAt.getTime()}-${id}.ndjson.gz`;
}

/**
 * WorkOS's per-event layout `YYYY-MM-DD/<timestamp>_<suffix>.json`, with the event's occurred_at (UTC, epoch
 * ms) and its id: the key is a function of the event alone, so a retried or replayed event overwrites its own
 * object instead of adding a duplicate. (WorkOS does not document its timestamp format; epoch ms avoids `:`.)
 */
export function eventObjectKey(base: string, event: AuditEvent, fallback: Date = new Date()): string {
  const parsed = Date.parse(event.occurred_at);
  const at = Number.isNaN(parsed) ? fallback : new Date(parsed);
  const day = `${pad(at.getUTCFullYear(), 4)}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`;
  return `${base}${day}/${at.getTime()}_${keySegment(event.id)}.json`;
}

/** Object metadata values must be printable ASCII; ids that are not are simply left out. */
function metadataFor(events: readonly AuditEvent[]): Record<string, string> {
  const metadata: Record<string, string> = { 'verity-event-count': String(events.length) };
  const first = events[0]?.id;
  const last = events[events.length - 1]?.id;
  if (first !== undefined && /^[\x20-\x7e]{1,256}$/.test(first)) metadata['verity-first-event-id'] = first;
  if (last !== undefined && /^[\x20-\x7e]{1,256}$/.test(last)) metadata['verity-last-event-id'] = last;
  return metadata;
}

/**
 * The object-store destination behind both S3 and Google Cloud Storage (its XML API is S3-compatible with
 * HMAC keys and SigV4), and any S3-compatible store (MinIO, R2) through `endpoint`.
 */
export function createObjectStoreDestination(options: ObjectStoreOptions, deps: Pick<DestinationDeps, 'allowPrivate'>): Destination {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Every string that must never reach a message: the secret key and, once issued, the role's session secrets.
  // (buildDestination redacts the configured key too; these calls cover the secrets learned while running.)
  const secrets = new Set<string>([options.secretAccessKey]);
  const scrubbed = (result: DeliveryResult): DeliveryResult => redactResult(result, secrets);

  const baseCredentials: Credentials = { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey };
  let sts: STSClient | undefined;
  let role: ReturnType<typeof assumeRoleCredentials> | undefined;
  if (options.assumeRole !== undefined) {
    sts = new STSClient({
      ...isolatedClientSettings,
      region: options.region,
      credentials: baseCredentials,
      requestHandler: guardedRequestHandler(deps.allowPrivate, timeoutMs),
      ...(options.assumeRole.stsEndpoint === undefined ? {} : { endpoint: options.assumeRole.stsEndpoint }),
    });
    role = assumeRoleCredentials({ ...options, assumeRole: options.assumeRole }, sts, (secret) => secrets.add(secret));
  }

  const client = new S3Client({
    ...isolatedClientSettings,
    region: options.region,
    // Explicit credentials: the default provider chain would read Verity's own environment and instance role.
    credentials: role?.provider ?? baseCredentials,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    forcePathStyle: options.forcePathStyle,
    requestHandler: guardedRequestHandler(deps.allowPrivate, timeoutMs),
    // The SDK's default CRC checksums are rejected by GCS and some S3-compatible stores; SigV4 already
    // signs the payload's SHA-256, so nothing is lost.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  const prefix = options.prefix?.replace(/\/+$/, '') ?? '';
  const baseFor = (organizationId: string): string => `${prefix === '' ? '' : `${prefix}/`}${keySegment(organizationId)}/`;

  const put = async (key: string, body: Uint8Array | string, contentType: string, extra: { ContentEncoding?: string; Metadata: Record<string, string> }): Promise<DeliveryResult> => {
    try {
      await client.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: body, ContentType: contentType, ...extra }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
      return { outcome: 'delivered', status: 200, detail: key };
    } catch (error) {
      const result = classifyPutError(error, options);
      // An expired session token is refreshed on the next attempt rather than reused until its cached expiry.
      if (result.outcome === 'retry' && /ExpiredToken|TokenRefreshRequired/.test(sdkError(error).code)) role?.invalidate();
      return scrubbed(result);
    }
  };

  const deliverBatch = async (events: readonly AuditEvent[], organizationId: string): Promise<DeliveryResult> => {
    const ndjson = `${events.map(eventJson).join('\n')}\n`;
    if (events.length > 1 && Buffer.byteLength(ndjson) > BATCH_LIMITS.maxBytes) {
      return { outcome: 'too_large', error: `batch of ${events.length} events exceeds ${BATCH_LIMITS.maxBytes} bytes per object` };
    }
    const body = await gzipAsync(ndjson);
    const key = batchObjectKey(baseFor(organizationId), new Date());
    return put(key, body, 'application/x-ndjson', { ContentEncoding: 'gzip', Metadata: metadataFor(events) });
  };

  /**
   * One object per event, a few PUTs at a time. After the first failure no new PUT starts; the result counts
   * only the unbroken run of successes from the start, so the engine resends from the first gap (events
   * after it that did land are simply overwritten, their keys being deterministic).
   */
  const deliverEach = async (events: readonly AuditEvent[], organizationId: string): Promise<DeliveryResult> => {
    const base = baseFor(organizationId);
    const outcomes: (DeliveryResult | undefined)[] = new Array<DeliveryResult | undefined>(events.length).fill(undefined);
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < events.length) {
        const index = next++;
        const event = events[index] as AuditEvent;
        const result = await put(eventObjectKey(base, event), JSON.stringify(event), 'application/json', { Metadata: metadataFor([event]) });
        outcomes[index] = result;
        if (result.outcome !== 'delivered') failed = true;
      }
    };
    await Promise.all(Array.from({ length: Math.min(PER_EVENT_CONCURRENCY, events.length) }, worker));
    const accepted = outcomes.findIndex((outcome) => outcome?.outcome !== 'delivered');
    if (accepted === -1) return { outcome: 'delivered', status: 200, detail: `${events.length} objects` };
    const failure = outcomes.find((outcome): outcome is Exclude<DeliveryResult, { outcome: 'delivered' }> => outcome !== undefined && outcome.outcome !== 'delivered');
    if (failure === undefined) return { outcome: 'retry', error: 'per-event upload stopped without a recorded failure' };
    if (accepted === 0) return failure;
    return { outcome: 'partial', accepted, status: failure.status, error: `${accepted} of ${events.length} objects written, then: ${failure.error}` };
  };

  return {
    limits: options.objectPerEvent ? PER_EVENT_LIMITS : BATCH_LIMITS,
    async deliver(events) {
      const first = events[0];
      if (first === undefined) return { outcome: 'delivered', detail: 'nothing to write' };
      try {
        return options.objectPerEvent ? await deliverEach(events, first.organization_id) : await deliverBatch(events, first.organization_id);
      } catch (error) {
        // Only local failures (gzip) reach here; the PUTs classify their own errors.
        return scrubbed(classifyNetworkError(error));
      }
    },
    async close() {
      client.destroy();
      sts?.destroy();
    },
  };
}

export const s3: DestinationType<S3Config> = {
  type: 'S3',
  label: 'Amazon S3 (or S3-compatible storage)',
  configSchema: S3ConfigSchema,
  secretFields: ['secret_access_key'],
  secretsBoundTo: ['endpoint'],
  create(config, { allowPrivate, http }) {
    return createObjectStoreDestination(
      {
        service: 'S3',
        credentialFields: 'access_key_id and secret_access_key',
        bucket: config.bucket,
        region: config.region,
        prefix: config.prefix,
        accessKeyId: config.access_key_id,
        secretAccessKey: config.secret_access_key,
        endpoint: config.endpoint,
        forcePathStyle: config.force_path_style ?? false,
        objectPerEvent: config.object_per_event ?? false,
        assumeRole: config.role_arn === undefined ? undefined : { roleArn: config.role_arn, externalId: config.external_id },
        timeoutMs: http.timeoutMs,
      },
      { allowPrivate },
    );
  },
};
