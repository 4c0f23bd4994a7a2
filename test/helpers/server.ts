import type { AddressInfo } from 'node:net';
import type { DbKind } from '../../src/db/db.js';
import { ADMIN_KEY, describeEachBackendWith, startTestApp, type TestApp } from './app.js';

/** A TestApp that also listens on a real TCP port (for clients that speak HTTP, like the WorkOS SDK). */
export interface ListeningTestApp extends TestApp {
  port: number;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** Sends a real HTTP request as `key` (the admin key by default; null sends none). */
  fetch<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: { key?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T; headers: Headers }>;
}

/** Starts the app on a database of `kind` and listens on an ephemeral port of 127.0.0.1. */
export async function startListeningTestApp(kind: DbKind, env: Record<string, string> = {}): Promise<ListeningTestApp> {
  const ctx = await startTestApp(kind, env);
  try {
    await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  } catch (error) {
    await ctx.close();
    throw error;
  }
  const { port } = ctx.app.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const fetchVia: ListeningTestApp['fetch'] = async (method, path, options = {}) => {
    const key = options.key === undefined ? ADMIN_KEY : options.key;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(new URL(path, baseUrl), { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    const parsed: unknown = (response.headers.get('content-type') ?? '').includes('application/json') && text !== '' ? JSON.parse(text) : text;
    return { status: response.status, body: parsed as never, headers: response.headers };
  };
  // The spread keeps TestApp's methods; close() closes the app, which closes its listening server too.
  return { ...ctx, port, baseUrl, fetch: fetchVia };
}

/**
 * Like describeEachBackend, but each backend's app listens on a real port: PGlite always, PostgreSQL when
 * a server answers (skipped with the reason printed; a failure under VERITY_REQUIRE_POSTGRES=1).
 */
export function describeEachBackendListening(
  name: string,
  suite: (ctx: () => ListeningTestApp) => void,
  env: Record<string, string> = {},
): void {
  describeEachBackendWith(name, startListeningTestApp, suite, env);
}
