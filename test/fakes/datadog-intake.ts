/**
 * A strict in-process Datadog logs intake (API v2), written from PROTOCOLS.md §2 (Datadog's "Send logs"
 * reference and the status list in the API client). It refuses what the real intake refuses, and it
 * silently drops logs older than 18 hours while answering 202, as Datadog does.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

export const DATADOG_FAKE_API_KEY = 'abcdef0123456789abcdef0123456789';

export interface DatadogIntakeOptions {
  /** Keys the intake accepts; default [DATADOG_FAKE_API_KEY]. */
  apiKeys?: string[];
  /** Most items in one array; default 1000. */
  maxItems?: number;
  /** Most bytes of uncompressed payload; default 5 MB. */
  maxBytes?: number;
}

/** One HTTPLogItem as accepted. */
export interface DatadogLogItem {
  message: unknown;
  ddsource?: string;
  ddtags?: string;
  hostname?: string;
  service?: string;
  status?: string;
  timestamp?: number | string;
  [attribute: string]: unknown;
}

export interface DatadogRequestRecord {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Bytes on the wire (compressed when gzip). */
  wireBytes: number;
  /** The decoded body. */
  body: string;
  status: number;
  reply: string;
}

export interface InjectedDatadogResponse {
  status: number;
  retryAfter?: string;
  body?: string;
}

export interface DatadogIntakeFake {
  /** http://127.0.0.1:<port>, to use as `endpoint_url`. */
  url: string;
  /** Every log accepted and kept, in order. */
  received: DatadogLogItem[];
  /** Logs accepted with 202 but discarded because their timestamp is more than 18 hours old. */
  dropped: DatadogLogItem[];
  requests: DatadogRequestRecord[];
  delayMs: number;
  /** Answer the next `count` requests with `response` instead of processing them. */
  failNext(count: number, response: InjectedDatadogResponse): void;
  close(): Promise<void>;
}

const MAX_AGE_MS = 18 * 3_600_000;

class IntakeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Milliseconds since the epoch for a numeric (ms) or ISO timestamp; undefined when absent. */
function timestampMs(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return undefined;
}

export async function startDatadogIntake(options: DatadogIntakeOptions = {}): Promise<DatadogIntakeFake> {
  const apiKeys = new Set(options.apiKeys ?? [DATADOG_FAKE_API_KEY]);
  const maxItems = options.maxItems ?? 1000;
  const maxBytes = options.maxBytes ?? 5_000_000;
  const injected: InjectedDatadogResponse[] = [];

  const fake: DatadogIntakeFake = {
    url: '',
    received: [],
    dropped: [],
    requests: [],
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

  function decode(raw: Buffer, encoding: string): Buffer {
    try {
      if (encoding === 'gzip') return gunzipSync(raw);
      if (encoding === 'deflate') return inflateSync(raw);
    } catch {
      throw new IntakeError(400, 'Bad Request: body could not be decompressed');
    }
    if (encoding === 'identity') return raw;
    throw new IntakeError(415, `Unsupported Content-Encoding ${encoding}`);
  }

  function parseItems(body: string, contentType: string): DatadogLogItem[] {
    // A body sent as text/plain would be taken as one raw log line: refusing it here catches the bug.
    if (!/^application\/json\b/i.test(contentType)) throw new IntakeError(400, `Bad Request: expected application/json, got '${contentType}'`);
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      throw new IntakeError(400, 'Bad Request: invalid JSON');
    }
    if (!Array.isArray(value) || value.length === 0) throw new IntakeError(400, 'Bad Request: expected a non-empty array of logs');
    if (value.length > maxItems) throw new IntakeError(413, `Payload Too Large: ${value.length} logs, at most ${maxItems}`);
    return value.map((item: unknown, index) => {
      if (!isRecord(item)) throw new IntakeError(400, `Bad Request: log ${index} is not an object`);
      if (item.message === undefined || item.message === null) throw new IntakeError(400, `Bad Request: log ${index} has no message`);
      if (typeof item.message !== 'string' && !isRecord(item.message)) throw new IntakeError(400, `Bad Request: log ${index} message must be a string or an object`);
      for (const key of ['ddsource', 'ddtags', 'hostname', 'service', 'status'] as const) {
        if (key in item && typeof item[key] !== 'string') throw new IntakeError(400, `Bad Request: log ${index} ${key} must be a string`);
      }
      if ('timestamp' in item && !Number.isFinite(timestampMs(item.timestamp))) throw new IntakeError(400, `Bad Request: log ${index} timestamp is invalid`);
      return item as DatadogLogItem;
    });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://fake');
    const record: DatadogRequestRecord = { method: request.method ?? '', path: url.pathname, query: url.searchParams, headers: request.headers, wireBytes: raw.length, body: '', status: 0, reply: '' };
    fake.requests.push(record);
    const reply = async (status: number, body: string, headers: Record<string, string> = {}): Promise<void> => {
      if (fake.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fake.delayMs));
      record.status = status;
      record.reply = body;
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body);
    };

    const forced = injected.shift();
    if (forced !== undefined) {
      return reply(forced.status, forced.body ?? JSON.stringify({ errors: [`injected ${forced.status}`] }), forced.retryAfter !== undefined ? { 'retry-after': forced.retryAfter } : {});
    }
    try {
      if (url.pathname !== '/api/v2/logs') throw new IntakeError(404, 'Not Found');
      if (request.method !== 'POST') throw new IntakeError(405, 'Method Not Allowed');
      const key = request.headers['dd-api-key'];
      if (typeof key !== 'string' || key === '') throw new IntakeError(401, 'Unauthorized');
      if (!apiKeys.has(key)) throw new IntakeError(403, 'Forbidden');
      const decoded = decode(raw, (request.headers['content-encoding'] ?? 'identity').toLowerCase());
      if (decoded.length > maxBytes) throw new IntakeError(413, `Payload Too Large: ${decoded.length} bytes, at most ${maxBytes}`);
      record.body = decoded.toString('utf8');
      const items = parseItems(record.body, request.headers['content-type'] ?? '');
      const now = Date.now();
      for (const item of items) {
        const ms = timestampMs(item.timestamp);
        (ms !== undefined && now - ms > MAX_AGE_MS ? fake.dropped : fake.received).push(item);
      }
      return reply(202, '{}');
    } catch (error) {
      if (error instanceof IntakeError) return reply(error.status, JSON.stringify({ errors: [error.message] }));
      throw error;
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ errors: [String(error)] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
