/**
 * A strict in-process Microsoft Entra token endpoint plus Azure Monitor Logs Ingestion API, written from
 * PROTOCOLS.md §3 (Microsoft's Logs Ingestion tutorial and service limits, @azure/monitor-ingestion's
 * published code). It refuses what the real services refuse — wrong grant, client, secret, scope, tenant,
 * api-version, DCR, stream, token, content type, body shape, size — with Azure's status codes and error
 * shapes, so a sender that passes here is well-formed. Error texts are modelled on Azure's (AADSTS codes);
 * their exact wording is not a contract.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export const SENTINEL_FAKE_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const SENTINEL_FAKE_CLIENT_ID = '0b8d3f2e-5c1a-4e6b-9f7d-1a2b3c4d5e6f';
export const SENTINEL_FAKE_SECRET = 'Xy8Q~fake.Secret_value-0123456789abcdefABCD';
export const SENTINEL_FAKE_DCR = 'dcr-0123456789abcdef0123456789abcdef';
export const SENTINEL_FAKE_STREAM = 'Custom-VerityAudit_CL';

/** Both spellings Microsoft documents for the Azure Monitor audience. */
const ACCEPTED_SCOPES = new Set(['https://monitor.azure.com//.default', 'https://monitor.azure.com/.default']);
const API_VERSION = '2023-01-01';

export interface SentinelFakeOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  dcrImmutableId?: string;
  streamName?: string;
  /** Seconds a token lives; Entra answers ~3599. */
  tokenLifetimeSeconds?: number;
  /** Azure: 1 MB per call for compressed and uncompressed data; its 413 names 1048576 bytes. */
  maxBytes?: number;
  /** A pathological token endpoint that echoes the submitted secret in its error text (redaction tests). */
  echoSecretInErrors?: boolean;
}

export interface SentinelIngestionRequest {
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Bytes on the wire (compressed when gzip). */
  wireBytes: number;
  /** Bytes after decompression. */
  bodyBytes: number;
  /** Rows in the call (when it parsed). */
  rows: number;
  status: number;
  reply: string;
}

export interface SentinelTokenRequest {
  path: string;
  form: Record<string, string>;
  status: number;
}

/** An answer forced onto the next requests, whatever they carry. */
export interface InjectedAzureResponse {
  status: number;
  /** Azure error code for the JSON body ({"error":{"code","message"}}); ignored when `body` is set. */
  code?: string;
  message?: string;
  retryAfter?: string;
  /** A raw body instead of Azure's JSON. */
  body?: string;
}

export interface SentinelFake {
  /** http://127.0.0.1:<port>: both the authority and the ingestion endpoint base. */
  url: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  dcrImmutableId: string;
  streamName: string;
  /** Every row ingested, in order. */
  received: Record<string, unknown>[];
  ingestionRequests: SentinelIngestionRequest[];
  tokenRequests: SentinelTokenRequest[];
  /** Answer the next `count` ingestion calls with `response`. */
  failNext(count: number, response: InjectedAzureResponse): void;
  /** Answer the next `count` token requests with `response`. */
  failTokenNext(count: number, response: InjectedAzureResponse): void;
  /** Every token issued so far stops working (as after expiry or revocation): ingestion answers 401. */
  expireTokens(): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function aadError(status: number, error: string, code: number, description: string): { status: number; body: string } {
  const trace = randomUUID();
  const body = {
    error,
    error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`,
    error_codes: [code],
    timestamp: new Date().toISOString(),
    trace_id: trace,
    correlation_id: randomUUID(),
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
  return { status, body: JSON.stringify(body) };
}

function azureError(status: number, code: string, message: string): { status: number; body: string } {
  return { status, body: JSON.stringify({ error: { code, message } }) };
}

export async function startSentinelFake(options: SentinelFakeOptions = {}): Promise<SentinelFake> {
  const tenantId = options.tenantId ?? SENTINEL_FAKE_TENANT;
  const clientId = options.clientId ?? SENTINEL_FAKE_CLIENT_ID;
  const clientSecret = options.clientSecret ?? SENTINEL_FAKE_SECRET;
  const dcr = options.dcrImmutableId ?? SENTINEL_FAKE_DCR;
  const stream = options.streamName ?? SENTINEL_FAKE_STREAM;
  const lifetime = options.tokenLifetimeSeconds ?? 3599;
  const maxBytes = options.maxBytes ?? 1_048_576;
  const tokens = new Map<string, number>(); // token → expiry (epoch ms)
  const received: Record<string, unknown>[] = [];
  const ingestionRequests: SentinelIngestionRequest[] = [];
  const tokenRequests: SentinelTokenRequest[] = [];
  const injected: InjectedAzureResponse[] = [];
  const injectedToken: InjectedAzureResponse[] = [];

  const injectedReply = (response: InjectedAzureResponse): { status: number; body: string; headers: Record<string, string> } => ({
    status: response.status,
    body: response.body ?? (response.code !== undefined ? azureError(response.status, response.code, response.message ?? response.code).body : ''),
    headers: response.retryAfter !== undefined ? { 'retry-after': response.retryAfter } : {},
  });

  function token(path: string, headers: IncomingHttpHeaders, raw: Buffer): { status: number; body: string; headers?: Record<string, string> } {
    const form = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
    const record: SentinelTokenRequest = { path, form, status: 0 };
    tokenRequests.push(record);
    const answer = ((): { status: number; body: string; headers?: Record<string, string> } => {
      const forced = injectedToken.shift();
      if (forced !== undefined) return injectedReply(forced);
      const tenant = decodeURIComponent(path.split('/')[1] ?? '');
      if (tenant !== tenantId) {
        return aadError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
      }
      if (!(headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
      }
      for (const field of ['grant_type', 'client_id', 'scope'] as const) {
        if (form[field] === undefined || form[field] === '') {
          return aadError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${field}'.`);
        }
      }
      if (form.grant_type !== 'client_credentials') {
        return aadError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${form.grant_type}'.`);
      }
      if (form.client_id !== clientId) {
        return aadError(
          400,
          'unauthorized_client',
          700016,
          `Application with identifier '${form.client_id}' was not found in the directory '${tenantId}'.` +
            (options.echoSecretInErrors === true ? ` Submitted secret: ${form.client_secret ?? ''}` : ''),
        );
      }
      if (form.client_secret !== clientSecret) {
        return aadError(
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.` +
            (options.echoSecretInErrors === true ? ` Received '${form.client_secret ?? ''}'.` : ''),
        );
      }
      if (!ACCEPTED_SCOPES.has(form.scope ?? '')) {
        return aadError(400, 'invalid_scope', 1002012, `The provided value for scope ${form.scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
      }
      const accessToken = `eyJ0eXAiOiJKV1Qi.${randomBytes(24).toString('base64url')}.${randomBytes(16).toString('base64url')}`;
      tokens.set(accessToken, Date.now() + lifetime * 1000);
      return { status: 200, body: JSON.stringify({ token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken }) };
    })();
    record.status = answer.status;
    return answer;
  }

  function ingest(path: string, query: URLSearchParams, headers: IncomingHttpHeaders, raw: Buffer): { status: number; body: string; headers?: Record<string, string> } {
    const record: SentinelIngestionRequest = { path, query: Object.fromEntries(query), headers, wireBytes: raw.length, bodyBytes: raw.length, rows: 0, status: 0, reply: '' };
    ingestionRequests.push(record);
    const answer = ((): { status: number; body: string; headers?: Record<string, string> } => {
      const forced = injected.shift();
      if (forced !== undefined) return injectedReply(forced);
      const auth = headers.authorization ?? '';
      const bearer = /^Bearer (.+)$/.exec(auth)?.[1];
      const expiry = bearer === undefined ? undefined : tokens.get(bearer);
      if (expiry === undefined || expiry <= Date.now()) {
        return { ...azureError(401, 'InvalidToken', bearer === undefined ? 'Authorization header is missing or not a Bearer token.' : 'The provided access token is expired or invalid.'), headers: { 'www-authenticate': 'Bearer realm="", error="invalid_token"' } };
      }
      if (query.get('api-version') !== API_VERSION) {
        return azureError(400, 'InvalidApiVersion', `The api-version '${query.get('api-version') ?? ''}' is invalid. The supported versions are '${API_VERSION}'.`);
      }
      const match = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)$/.exec(path);
      if (match?.[1] === undefined || decodeURIComponent(match[1]) !== dcr) {
        return azureError(404, 'NotFound', `Data collection rule with immutable Id '${match?.[1] ?? ''}' not found.`);
      }
      if (decodeURIComponent(match[2] ?? '') !== stream) {
        return azureError(400, 'InvalidStream', `Stream '${match[2] ?? ''}' is not declared in data collection rule '${dcr}'.`);
      }
      if (raw.length > maxBytes) {
        return azureError(413, 'ContentLengthLimitExceeded', `Maximum allowed content length: ${maxBytes} bytes (1 MB). Provided content length: ${raw.length} bytes.`);
      }
      if (!(headers['content-type'] ?? '').startsWith('application/json')) {
        return azureError(415, 'UnsupportedMediaType', `Content type '${headers['content-type'] ?? ''}' is not supported; use application/json.`);
      }
      let body = raw;
      const encoding = headers['content-encoding'];
      if (encoding === 'gzip') {
        try {
          body = gunzipSync(raw);
        } catch {
          return azureError(400, 'InvalidContentEncoding', 'The request body could not be decompressed with gzip.');
        }
      } else if (encoding !== undefined) {
        return azureError(400, 'InvalidContentEncoding', `Content encoding '${encoding}' is not supported.`);
      }
      record.bodyBytes = body.length;
      if (body.length > maxBytes) {
        return azureError(413, 'ContentLengthLimitExceeded', `Maximum allowed uncompressed content length: ${maxBytes} bytes (1 MB). Provided: ${body.length} bytes.`);
      }
      let rows: unknown;
      try {
        rows = JSON.parse(body.toString('utf8'));
      } catch {
        return azureError(400, 'InvalidContentFormat', 'The request body is not valid JSON.');
      }
      if (!Array.isArray(rows) || rows.length === 0) return azureError(400, 'InvalidContentFormat', 'The request body must be a non-empty JSON array of objects.');
      for (const row of rows as unknown[]) {
        if (typeof row !== 'object' || row === null || Array.isArray(row)) return azureError(400, 'InvalidContentFormat', 'Every array item must be a JSON object.');
        const time = (row as Record<string, unknown>).TimeGenerated;
        if (typeof time !== 'string' || Number.isNaN(Date.parse(time))) {
          return azureError(400, 'InvalidContentFormat', 'Every row needs TimeGenerated as an ISO 8601 date-time (the DCR stream declares it).');
        }
      }
      record.rows = rows.length;
      received.push(...(rows as Record<string, unknown>[]));
      return { status: 204, body: '' };
    })();
    record.status = answer.status;
    record.reply = answer.body;
    return answer;
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then((raw) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      let answer: { status: number; body: string; headers?: Record<string, string> };
      if (req.method !== 'POST') answer = azureError(405, 'MethodNotAllowed', 'Only POST is supported.');
      else if (url.pathname.endsWith('/oauth2/v2.0/token')) answer = token(url.pathname, req.headers, raw);
      else if (url.pathname.startsWith('/dataCollectionRules/')) answer = ingest(url.pathname, url.searchParams, req.headers, raw);
      else answer = azureError(404, 'NotFound', `No route for ${url.pathname}.`);
      res.writeHead(answer.status, { ...(answer.body !== '' ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...(answer.headers ?? {}) });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    tenantId,
    clientId,
    clientSecret,
    dcrImmutableId: dcr,
    streamName: stream,
    received,
    ingestionRequests,
    tokenRequests,
    failNext(count, response) {
      for (let i = 0; i < count; i++) injected.push(response);
    },
    failTokenNext(count, response) {
      for (let i = 0; i < count; i++) injectedToken.push(response);
    },
    expireTokens() {
      for (const key of tokens.keys()) tokens.set(key, 0);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
