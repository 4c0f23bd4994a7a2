import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe } from 'vitest';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { DbKind } from '../../src/db/db.js';
import { buildApp, type Services } from '../../src/http/app.js';
import type { Scope } from '../../src/keys/keys.service.js';
import { createTestDb, postgresAvailability, type TestDb } from './db.js';

export const ADMIN_KEY = 'sk_test_admin_key_0123456789abcdef';

export interface Response<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface TestApp {
  kind: DbKind;
  testDb: TestDb;
  app: FastifyInstance;
  services: Services;
  config: Config;
  /** Sends a request as `key` (the admin key by default; null sends none). */
  call<T = Record<string, unknown>>(
    method: InjectOptions['method'],
    url: string,
    options?: { key?: string | null; body?: unknown; headers?: Record<string, string>; rawBody?: string },
  ): Promise<Response<T>>;
  createOrg(name?: string): Promise<string>;
  createKey(scopes: Scope[], organizationId?: string): Promise<string>;
  close(): Promise<void>;
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ VERITY_DATA_DIR: '/tmp/verity-test-unused', VERITY_BOOTSTRAP_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent', ...overrides });
}

export async function startTestApp(kind: DbKind, env: Record<string, string> = {}): Promise<TestApp> {
  const testDb = await createTestDb(kind);
  const config = testConfig(env);
  const { app, services } = await buildApp({ config, db: testDb.db, secretKey: randomBytes(32), worker: env.VERITY_TEST_WORKER === 'true' });
  await services.keys.ensureBootstrapKey(ADMIN_KEY);
  let orgCounter = 0;
  const call: TestApp['call'] = async (method, url, options = {}) => {
    const key = options.key === undefined ? ADMIN_KEY : options.key;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let payload: string | undefined = options.rawBody;
    if (options.body !== undefined) payload = JSON.stringify(options.body);
    if (payload !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
    const response = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
    const text = response.body;
    let body: unknown = text;
    if ((response.headers['content-type'] ?? '').toString().includes('application/json') && text !== '') body = JSON.parse(text);
    return { status: response.statusCode, body: body as never, headers: response.headers };
  };
  return {
    kind,
    testDb,
    app,
    services,
    config,
    call,
    async createOrg(name) {
      orgCounter += 1;
      const response = await call<{ id: string }>('POST', '/organizations', { body: { name: name ?? `Org ${orgCounter}` } });
      if (response.status !== 201) throw new Error(`createOrg failed: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body.id;
    },
    async createKey(scopes, organizationId) {
      const created = await services.keys.create({ name: 'test', scopes, organizationId: organizationId ?? null });
      return created.secret;
    },
    async close() {
      await app.close();
      await testDb.drop();
    },
  };
}

/**
 * Runs a suite once per backend: PGlite always, PostgreSQL when a server answers (skipped with the
 * reason printed; a failure under VERITY_REQUIRE_POSTGRES=1). One app per backend per file; tests
 * isolate themselves by creating their own organizations.
 */
export function describeEachBackend(name: string, suite: (ctx: () => TestApp) => void, env: Record<string, string> = {}): void {
  describeEachBackendWith(name, startTestApp, suite, env);
}

/** describeEachBackend with any kind of started app (in-process, listening, …). */
export function describeEachBackendWith<T extends { close(): Promise<void> }>(
  name: string,
  start: (kind: DbKind, env: Record<string, string>) => Promise<T>,
  suite: (ctx: () => T) => void,
  env: Record<string, string> = {},
): void {
  for (const kind of ['pglite', 'postgres'] as const) {
    const { available, reason } = kind === 'postgres' ? postgresAvailability() : { available: true, reason: null };
    if (!available) {
      describe.skip(`${name} [${kind}] — skipped: ${reason ?? ''}`, () => undefined);
      console.warn(`skipping PostgreSQL suite "${name}": ${reason ?? ''}`);
      continue;
    }
    describe(`${name} [${kind}]`, () => {
      let ctx: T | undefined;
      beforeAll(async () => {
        ctx = await start(kind, env);
      });
      afterAll(async () => {
        await ctx?.close();
      });
      suite(() => {
        if (ctx === undefined) throw new Error('test app not started');
        return ctx;
      });
    });
  }
}

let eventCounter = 0;

/** A valid WorkOS-shaped event; override any field. */
export function makeEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  eventCounter += 1;
  return {
    action: 'user.signed_in',
    occurred_at: new Date(Date.UTC(2026, 10, 1, 0, 0, eventCounter)).toISOString(),
    actor: { id: `user_${eventCounter}`, type: 'user', name: `User ${eventCounter}`, metadata: { role: 'admin' } },
    targets: [{ id: `team_${eventCounter}`, type: 'team', name: 'Team', metadata: { tier: 'gold' } }],
    context: { location: '203.0.113.7', user_agent: 'Mozilla/5.0' },
    metadata: { source: 'test' },
    ...overrides,
  };
}
