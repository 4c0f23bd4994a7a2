/**
 * A strict in-process Splunk HTTP Event Collector, written from PROTOCOLS.md §1 (Splunk's "Format events
 * for HEC" and "Troubleshoot HEC" pages, Vector's HEC source). It refuses everything the real collector
 * refuses, answering with the same HTTP status and HEC code, so a sender passing here is well-formed.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export const SPLUNK_FAKE_TOKEN = '11111111-2222-3333-4444-555555555555';

export interface SplunkHecFakeOptions {
  /** Tokens the collector accepts; default [SPLUNK_FAKE_TOKEN]. */
  tokens?: string[];
  /** Tokens that exist but are disabled (code 1). */
  disabledTokens?: string[];
  /** When set, an envelope's `index` must be one of these (code 7); no index means the token's default. */
  allowedIndexes?: string[];
  /** `limits.conf [http_input] max_content_length`; larger bodies get 413. Default 800 MiB. */
  maxContentLength?: number;
  /** The channel is required whenever indexer acknowledgement is on; the fake requires it by default. */
  requireChannel?: boolean;
}

/** One envelope as the collector indexed it. */
export interface HecEnvelope {
  time?: number | string;
  host?: string;
  source?: string;
  sourcetype?: string;
  index?: string;
  event: unknown;
  fields?: Record<string, unknown>;
}

export interface HecRequestRecord {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Bytes on the wire (compressed when gzip). */
  wireBytes: number;
  /** The decoded body. */
  body: string;
  status: number;
  reply: string;
}

/** An answer to force onto the next requests, whatever they carry. */
export interface InjectedHecResponse {
  status: number;
  code?: number;
  text?: string;
  invalidEventNumber?: number;
  retryAfter?: string;
  /** A raw body instead of HEC JSON (a proxy's HTML page, say); without `code` or `body` the body is empty. */
  body?: string;
}

export interface SplunkHecFake {
  /** http://127.0.0.1:<port>, the collector's base URL. */
  url: string;
  /** Every envelope indexed, in order. */
  received: HecEnvelope[];
  /** Every request, answered or not. */
  requests: HecRequestRecord[];
  /** Events (by `event.id`) the collector refuses with code 6 + invalid-event-number, indexing those before. */
  rejectEventIds: Set<string>;
  /** Wait this long before answering. */
  delayMs: number;
  /** Answer the next `count` requests with `response` instead of processing them. */
  failNext(count: number, response: InjectedHecResponse): void;
  close(): Promise<void>;
}

const EVENT_PATHS = new Set(['/services/collector', '/services/collector/event', '/services/collector/event/1.0']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The HEC code table (PROTOCOLS §1): code → [HTTP status, text]. */
const CODES: Readonly<Record<number, readonly [number, string]>> = {
  0: [200, 'Success'],
  1: [403, 'Token disabled'],
  2: [401, 'Token is required'],
  3: [401, 'Invalid authorization'],
  4: [403, 'Invalid token'],
  5: [400, 'No data'],
  6: [400, 'Invalid data format'],
  7: [400, 'Incorrect index'],
  8: [500, 'Internal server error'],
  9: [503, 'Server is busy'],
  10: [400, 'Data channel is missing'],
  11: [400, 'Invalid data channel'],
  12: [400, 'Event field is required'],
  13: [400, 'Event field cannot be blank'],
  14: [400, 'ACK is disabled'],
  15: [400, 'Error in handling indexed fields'],
  16: [400, 'Query string authorization is not enabled'],
  17: [200, 'HEC is healthy'],
  18: [503, 'HEC is unhealthy, queues are full'],
};

class HecError extends Error {
  constructor(
    readonly code: number,
    readonly invalidEventNumber?: number,
  ) {
    super(CODES[code]?.[1] ?? 'unknown');
  }
}

/** One JSON value after another, as Splunk reads the body: values before a malformed one still count. */
function* concatenatedValues(text: string): Generator<{ ok: true; value: unknown } | { ok: false }> {
  let i = 0;
  for (;;) {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i += 1;
    if (i >= text.length) return;
    const start = i;
    if (text.charAt(i) !== '{') {
      yield { ok: false };
      return;
    }
    let depth = 0;
    let inString = false;
    let escaped = false;
    for (; i < text.length; i += 1) {
      const c = text.charAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth += 1;
      else if (c === '}' || c === ']') {
        depth -= 1;
        if (depth === 0) {
          i += 1;
          break;
        }
      }
    }
    if (depth !== 0) {
      yield { ok: false };
      return;
    }
    try {
      yield { ok: true, value: JSON.parse(text.slice(start, i)) as unknown };
    } catch {
      yield { ok: false };
      return;
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBlank(event: unknown): boolean {
  return (typeof event === 'string' && event.trim() === '') || (isRecord(event) && Object.keys(event).length === 0);
}

function isNumericTime(time: unknown): boolean {
  if (typeof time === 'number') return Number.isFinite(time) && time >= 0;
  return typeof time === 'string' && /^\d+(\.\d+)?$/.test(time);
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export async function startSplunkHec(options: SplunkHecFakeOptions = {}): Promise<SplunkHecFake> {
  const tokens = new Set(options.tokens ?? [SPLUNK_FAKE_TOKEN]);
  const disabled = new Set(options.disabledTokens ?? []);
  const allowedIndexes = options.allowedIndexes === undefined ? undefined : new Set(options.allowedIndexes);
  const maxContentLength = options.maxContentLength ?? 800 * 1024 * 1024;
  const requireChannel = options.requireChannel ?? true;
  const injected: InjectedHecResponse[] = [];

  const fake: SplunkHecFake = {
    url: '',
    received: [],
    requests: [],
    rejectEventIds: new Set(),
    delayMs: 0,
    failNext(count, response) {
      for (let n = 0; n < count; n += 1) injected.push(response);
    },
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };

  function authorize(headers: IncomingHttpHeaders, query: URLSearchParams): void {
    const authorization = headers.authorization;
    if (authorization === undefined) throw new HecError(query.has('token') ? 16 : 2);
    let token: string | undefined;
    const splunk = /^Splunk (\S+)$/.exec(authorization);
    const basic = /^Basic (\S+)$/.exec(authorization);
    if (splunk) token = splunk[1];
    // Basic auth carries the token as the password; the user name is ignored.
    else if (basic?.[1] !== undefined) token = Buffer.from(basic[1], 'base64').toString('utf8').split(':').slice(1).join(':');
    if (token === undefined || token === '') throw new HecError(3);
    if (disabled.has(token)) throw new HecError(1);
    if (!tokens.has(token)) throw new HecError(4);
  }

  /** Validates and indexes envelopes one by one; the first bad one stops the request. */
  function ingest(body: string): number {
    let position = 0;
    for (const result of concatenatedValues(body)) {
      if (!result.ok || !isRecord(result.value)) throw new HecError(6, position);
      const envelope = result.value;
      if (!('event' in envelope)) throw new HecError(12, position);
      const event = envelope.event;
      if (isBlank(event)) throw new HecError(13, position);
      if (typeof event !== 'string' && !isRecord(event)) throw new HecError(6, position);
      if ('time' in envelope && !isNumericTime(envelope.time)) throw new HecError(6, position);
      for (const key of ['host', 'source', 'sourcetype', 'index'] as const) {
        if (key in envelope && typeof envelope[key] !== 'string') throw new HecError(6, position);
      }
      if (typeof envelope.index === 'string' && allowedIndexes !== undefined && !allowedIndexes.has(envelope.index)) {
        throw new HecError(7, position);
      }
      if ('fields' in envelope) {
        const fields = envelope.fields;
        if (!isRecord(fields) || Object.values(fields).some((value) => isRecord(value))) throw new HecError(15, position);
      }
      if (isRecord(event) && typeof event.id === 'string' && fake.rejectEventIds.has(event.id)) throw new HecError(6, position);
      fake.received.push(envelope as unknown as HecEnvelope);
      position += 1;
    }
    if (position === 0) throw new HecError(5);
    return position;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://fake');
    const record: HecRequestRecord = { method: request.method ?? '', path: url.pathname, headers: request.headers, wireBytes: raw.length, body: '', status: 0, reply: '' };
    fake.requests.push(record);
    const reply = async (status: number, body: string, headers: Record<string, string> = {}): Promise<void> => {
      if (fake.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fake.delayMs));
      record.status = status;
      record.reply = body;
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body);
    };
    const hec = (code: number, invalidEventNumber?: number): Promise<void> => {
      const [status, text] = CODES[code] ?? [500, 'unknown'];
      return reply(status, JSON.stringify({ text, code, ...(invalidEventNumber !== undefined ? { 'invalid-event-number': invalidEventNumber } : {}) }));
    };

    const forced = injected.shift();
    if (forced !== undefined) {
      // Without a code the body is empty, as from a load balancer in front of the collector.
      const body =
        forced.body ??
        (forced.code === undefined
          ? ''
          : JSON.stringify({
              text: forced.text ?? CODES[forced.code]?.[1] ?? 'error',
              code: forced.code,
              ...(forced.invalidEventNumber !== undefined ? { 'invalid-event-number': forced.invalidEventNumber } : {}),
            }));
      return reply(forced.status, body, forced.retryAfter !== undefined ? { 'retry-after': forced.retryAfter } : {});
    }

    if (request.method === 'GET' && url.pathname === '/services/collector/health') return hec(17);
    if (!EVENT_PATHS.has(url.pathname)) return reply(404, JSON.stringify({ text: 'The requested URL was not found on this server.', code: 404 }));
    if (request.method !== 'POST') return reply(405, JSON.stringify({ text: 'Method not allowed', code: 405 }));
    try {
      authorize(request.headers, url.searchParams);
      const channel = request.headers['x-splunk-request-channel'] ?? url.searchParams.get('channel') ?? undefined;
      if (typeof channel !== 'string') {
        if (requireChannel) throw new HecError(10);
      } else if (!UUID.test(channel)) throw new HecError(11);

      if (raw.length > maxContentLength) return reply(413, JSON.stringify({ text: 'Content too large', code: 413 }));
      const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
      let decoded: Buffer;
      if (encoding === 'gzip') {
        try {
          decoded = gunzipSync(raw);
        } catch {
          throw new HecError(6, 0);
        }
      } else if (encoding === 'identity') decoded = raw;
      // A probe of Splunk 10.4.3 saw 415 for deflate (PROTOCOLS §1).
      else return reply(415, JSON.stringify({ text: 'Unsupported content encoding', code: 415 }));
      if (decoded.length > maxContentLength) return reply(413, JSON.stringify({ text: 'Content too large', code: 413 }));
      record.body = decoded.toString('utf8');
      ingest(record.body);
      return hec(0);
    } catch (error) {
      if (error instanceof HecError) return hec(error.code, error.invalidEventNumber);
      throw error;
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ text: String(error), code: 8 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
