import { gzipSync } from 'node:zlib';
import { Agent, fetch as undiciFetch, type Dispatcher } from 'undici';
import { assertHostAllowed, guardedLookup } from './address-guard.js';

/** What a destination needs from the network: fetch with the address guard and a timeout. */
export interface HttpClient {
  send(request: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface HttpRequest {
  url: string;
  method?: 'POST' | 'PUT';
  headers?: Record<string, string>;
  body: string | Uint8Array;
  /** Gzip the body and set Content-Encoding. */
  gzip?: boolean;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  latencyMs: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_RESPONSE_CHARS = 4_000;

export function createHttpClient(options: { allowPrivate: boolean; timeoutMs?: number }): HttpClient {
  const dispatcher: Dispatcher = new Agent({
    connect: { lookup: guardedLookup(options.allowPrivate) },
    keepAliveTimeout: 10_000,
    connections: 16,
  });
  return {
    async send(request) {
      // WHATWG URL normalises odd forms (0x7f.1, 2130706433) to dotted IPv4 before this check.
      assertHostAllowed(new URL(request.url).hostname, options.allowPrivate);
      const body = request.gzip === true ? gzipSync(request.body) : request.body;
      const headers: Record<string, string> = { ...(request.headers ?? {}) };
      if (request.gzip === true) headers['content-encoding'] = 'gzip';
      const started = performance.now();
      const response = await undiciFetch(request.url, {
        method: request.method ?? 'POST',
        headers,
        body,
        dispatcher,
        redirect: 'manual',
        signal: AbortSignal.timeout(request.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      // Bodies are read for error messages only; a hostile endpoint must not make us buffer megabytes.
      const text = (await response.text()).slice(0, MAX_RESPONSE_CHARS);
      return { status: response.status, headers: response.headers as unknown as Headers, text, latencyMs: performance.now() - started };
    },
    close: () => dispatcher.close(),
  };
}
