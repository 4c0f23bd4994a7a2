import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { DbKind } from '../../src/db/db.js';
import { buildApp, type VerityApp } from '../../src/http/app.js';
import { ADMIN_KEY, describeEachBackendWith, makeEvent, testConfig } from '../helpers/app.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { ScriptedReceiver } from './receiver.js';

/** A worker app whose log lines (warn and up) are kept, to check what reaches the server log. */
interface LoggedApp extends VerityApp {
  testDb: TestDb;
  logs: string[];
  call<T>(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

async function startLoggedApp(kind: DbKind, env: Record<string, string>): Promise<LoggedApp> {
  const testDb = await createTestDb(kind);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const { app, services } = await buildApp({ config: testConfig(env), db: testDb.db, secretKey: randomBytes(32), worker: true, logger: pino({ level: 'warn' }, sink) });
  await services.keys.ensureBootstrapKey(ADMIN_KEY);
  return {
    app,
    services,
    testDb,
    logs,
    async call<T>(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) {
      const response = await app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
      return { status: response.statusCode, body: (response.body === '' ? undefined : JSON.parse(response.body)) as T };
    },
    async close() {
      await app.close();
      await testDb.drop();
    },
  };
}

type Stream = { id: string; state: string; state_reason: string | null };

const API_KEY = 'dd0123456789abcdefSECRETapikey';
const HEC_TOKEN = 'c0ffee00-1111-2222-3333-SECRETHECTOK';
const BEARER = 'SECRET-bearer-token-value';

describeEachBackendWith(
  'log streams: secrets a receiver echoes back are redacted',
  startLoggedApp,
  (ctx) => {
    let receiver: ScriptedReceiver;
    beforeEach(async () => {
      receiver = await new ScriptedReceiver().start();
    });
    afterEach(async () => {
      await receiver.close();
    });

    const cases = [
      { type: 'Datadog', header: 'dd-api-key', secrets: [API_KEY], config: () => ({ site: 'US1', api_key: API_KEY, endpoint_url: receiver.url }) },
      { type: 'Splunk', header: 'authorization', secrets: [HEC_TOKEN], config: () => ({ hec_url: receiver.url, hec_token: HEC_TOKEN }) },
      {
        type: 'GenericHttps',
        header: 'authorization',
        secrets: [`Bearer ${BEARER}`, BEARER],
        config: () => ({ url: receiver.url, headers: { Authorization: `Bearer ${BEARER}` } }),
      },
    ] as const;

    for (const { type, header, secrets, config } of cases) {
      it(`${type}: deliveries, state_reason, the test answer and the log never hold the echoed secret`, async () => {
        const org = await ctx().call<{ id: string }>('POST', '/organizations', { name: `Redaction ${type}` });
        // Enough failures for the first attempt and the test send; the backoff keeps later ones out of the test.
        receiver.respond(...Array.from({ length: 6 }, () => ({ status: 500, echoHeaders: [header] })));
        const stream = (await ctx().call<Stream>('POST', '/log_streams', { organization_id: org.body.id, type, config: config() })).body;
        await ctx().call('POST', '/audit_logs/events/batch', { organization_id: org.body.id, events: [makeEvent()] });
        const deadline = Date.now() + 15_000;
        let current = (await ctx().call<Stream>('GET', `/log_streams/${stream.id}`)).body;
        while (current.state !== 'error') {
          if (Date.now() > deadline) throw new Error(`stream never failed: ${JSON.stringify(current)}`);
          await new Promise((resolve) => setTimeout(resolve, 25));
          current = (await ctx().call<Stream>('GET', `/log_streams/${stream.id}`)).body;
        }
        const tested = await ctx().call<{ success: boolean; error: string }>('POST', `/log_streams/${stream.id}/test`);
        const deliveries = await ctx().testDb.db.query<{ error: string }>('select error from stream_deliveries where stream_id = $1', [stream.id]);
        expect(deliveries.length).toBeGreaterThanOrEqual(2);
        const logged = ctx().logs.filter((line) => line.includes(stream.id));
        expect(logged.some((line) => line.includes('log stream delivery failed'))).toBe(true);
        // The receiver did quote the header: the redaction marker stands where it was.
        expect(current.state_reason).toContain('[redacted]');
        expect(tested.body.error).toContain('[redacted]');
        const seen = JSON.stringify({ reason: current.state_reason, tested: tested.body, deliveries, logged });
        for (const secret of secrets) expect(seen).not.toContain(secret);
        await ctx().call('DELETE', `/log_streams/${stream.id}`);
      });
    }
  },
  { VERITY_ALLOW_PRIVATE_DESTINATIONS: 'true' },
);
