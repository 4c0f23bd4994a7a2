/**
 * An in-process webhook receiver for GenericHttps streams. It keeps every request's raw body and headers
 * and checks Standard Webhooks signatures (PROTOCOLS.md §5) with the `standardwebhooks` package, the
 * spec's reference library, rather than with Verity's own signing code.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Webhook } from 'standardwebhooks';

export interface WebhookReceiverOptions {
  /** The signing secret (whsec_…); when set, every request's signature is verified. */
  secret?: string;
  /** Answer 401 to requests whose signature does not verify, as a careful receiver does. */
  rejectInvalidSignatures?: boolean;
  /** The status of a normal answer; default 200. */
  status?: number;
}

export interface WebhookRequestRecord {
  method: string;
  path: string;
  /** Header names in lower case, values joined as Node presents them. */
  headers: Record<string, string>;
  rawBody: string;
  /** JSON for application/json, an array of lines' values for application/x-ndjson, else the raw text. */
  body: unknown;
  /** `unsigned` when no secret is configured on the receiver. */
  signature: 'valid' | 'invalid' | 'unsigned';
  signatureError?: string;
  status: number;
}

export interface InjectedWebhookResponse {
  status: number;
  retryAfter?: string;
  body?: string;
}

export interface WebhookReceiverFake {
  url: string;
  /** Requests answered with 2xx, in order. */
  received: WebhookRequestRecord[];
  /** Every request. */
  requests: WebhookRequestRecord[];
  delayMs: number;
  /** Answer the next `count` requests with `response`. */
  failNext(count: number, response: InjectedWebhookResponse): void;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function parseBody(raw: string, contentType: string): unknown {
  try {
    if (/^application\/x-ndjson\b/i.test(contentType)) {
      return raw
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as unknown);
    }
    if (/^application\/json\b/i.test(contentType)) return JSON.parse(raw) as unknown;
  } catch {
    // Kept raw: a test asserting on the parsed shape fails on its own, with the body in sight.
  }
  return raw;
}

export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiverFake> {
  const verifier = options.secret === undefined ? undefined : new Webhook(options.secret);
  const injected: InjectedWebhookResponse[] = [];

  const fake: WebhookReceiverFake = {
    url: '',
    received: [],
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

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const wire = await readBody(request);
    const raw = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(wire) : wire).toString('utf8');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const record: WebhookRequestRecord = {
      method: request.method ?? '',
      path: request.url ?? '/',
      headers,
      rawBody: raw,
      body: parseBody(raw, headers['content-type'] ?? ''),
      signature: 'unsigned',
      status: 0,
    };
    if (verifier !== undefined) {
      try {
        // The library would also JSON-parse the payload, which an NDJSON body fails: only the signature is its job here.
        verifier.verify(raw, headers, { jsonParse: false });
        record.signature = 'valid';
      } catch (error) {
        record.signature = 'invalid';
        record.signatureError = error instanceof Error ? error.message : String(error);
      }
    }
    fake.requests.push(record);

    const forced = injected.shift();
    let status = options.status ?? 200;
    let body = '';
    const extra: Record<string, string> = {};
    if (forced !== undefined) {
      status = forced.status;
      body = forced.body ?? '';
      if (forced.retryAfter !== undefined) extra['retry-after'] = forced.retryAfter;
    } else if (record.signature === 'invalid' && options.rejectInvalidSignatures === true) {
      status = 401;
      body = record.signatureError ?? 'invalid signature';
    }
    if (fake.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fake.delayMs));
    record.status = status;
    if (status >= 200 && status < 300) fake.received.push(record);
    response.writeHead(status, { 'content-type': 'text/plain', ...extra });
    response.end(body);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
