import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachBackend } from '../helpers/app.js';

/** Accepts connections and never says a word: an object store or syslog receiver that hangs. */
async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type TestAnswer = { success: boolean; outcome: string; error: string; latency_ms: number };

describeEachBackend(
  'log streams: VERITY_STREAM_REQUEST_TIMEOUT_MS bounds every destination',
  (ctx) => {
    let silent: Awaited<ReturnType<typeof startSilentServer>>;
    beforeEach(async () => {
      silent = await startSilentServer();
    });
    afterEach(async () => {
      await silent.close();
    });

    const configs: Record<string, () => Record<string, unknown>> = {
      S3: () => ({ bucket: 'audit', region: 'us-east-1', access_key_id: 'AKIDTEST', secret_access_key: 'secret-key-0123', endpoint: `http://127.0.0.1:${silent.port}`, force_path_style: true }),
      GoogleCloudStorage: () => ({ bucket: 'audit', hmac_access_key_id: 'GOOGTEST', hmac_secret: 'hmac-secret-0123', endpoint: `http://127.0.0.1:${silent.port}` }),
      Syslog: () => ({ host: '127.0.0.1', port: silent.port, tls: true, format: 'rfc5424_json' }),
    };

    for (const [type, config] of Object.entries(configs)) {
      it(`${type}: a receiver that never answers fails the attempt after the configured timeout`, async () => {
        const org = await ctx().createOrg();
        const created = await ctx().call<{ id: string }>('POST', '/log_streams', { body: { organization_id: org, type, config: config() } });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        const answer = (await ctx().call<TestAnswer>('POST', `/log_streams/${created.body.id}/test`)).body;
        expect(answer).toMatchObject({ success: false, outcome: 'retry' });
        expect(answer.error).toMatch(/(within|after) 500 ms/);
        expect(answer.latency_ms).toBeLessThan(5_000);
      });
    }
  },
  { VERITY_ALLOW_PRIVATE_DESTINATIONS: 'true', VERITY_STREAM_REQUEST_TIMEOUT_MS: '500' },
);
