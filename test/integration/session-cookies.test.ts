/**
 * Session cookies behind a TLS-terminating proxy: they are Secure whenever Verity is reached over https
 * (its public URL, or a request that came over TLS as a proxy trusted with VERITY_TRUST_PROXY reports it),
 * and forwarding headers count only from trusted proxies — so a client can neither downgrade the cookie
 * nor dodge the per-address sign-in limit by sending X-Forwarded-For itself.
 *
 * These are about HTTP headers, not storage, so they run on PGlite only.
 */
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

const EMAIL = 'ops@vendor.example';
const PASSWORD = 'correct horse battery staple';

function cookieOf(response: LightMyRequestResponse, name: string): LightMyRequestResponse['cookies'][number] {
  const found = response.cookies.find((cookie) => cookie.name === name);
  if (found === undefined) throw new Error(`no ${name} cookie (status ${response.statusCode}): ${response.body}`);
  return found;
}

function withApp(env: Record<string, string>, suite: (app: () => TestApp) => void): void {
  let app: TestApp | undefined;
  beforeAll(async () => {
    app = await startTestApp('pglite', env);
    await app.services.operators.ensureAdmin(EMAIL, PASSWORD);
  });
  afterAll(async () => {
    await app?.close();
  });
  suite(() => {
    if (app === undefined) throw new Error('app not started');
    return app;
  });
}

function login(app: TestApp, headers: Record<string, string> = {}, password = PASSWORD): Promise<LightMyRequestResponse> {
  const options: InjectOptions = { method: 'POST', url: '/dashboard/api/login', payload: { email: EMAIL, password }, headers };
  return app.app.inject(options);
}

async function launchPortal(app: TestApp, headers: Record<string, string>): Promise<LightMyRequestResponse> {
  const org = await app.createOrg('Proxy Co');
  const generated = await app.call<{ link: string }>('POST', '/portal/generate_link', { body: { organization: org, intent: 'audit_logs' } });
  const url = new URL(generated.body.link);
  return app.app.inject({ method: 'GET', url: `${url.pathname}${url.search}`, headers });
}

describe('session cookies behind a trusted TLS-terminating proxy (VERITY_TRUST_PROXY=127.0.0.1)', () => {
  // inject() connects from 127.0.0.1: the proxy's address here.
  withApp({ VERITY_TRUST_PROXY: '127.0.0.1' }, (app) => {
    it('sets Secure on the operator and portal cookies when the proxy reports https', async () => {
      const signedIn = await login(app(), { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.10' });
      expect(signedIn.statusCode, signedIn.body).toBe(200);
      expect(cookieOf(signedIn, 'verity_session').secure).toBe(true);

      const launched = await launchPortal(app(), { 'x-forwarded-proto': 'https' });
      expect(launched.statusCode).toBe(302);
      expect(cookieOf(launched, 'verity_portal').secure).toBe(true);
    });

    it('leaves Secure off for plain http through the proxy (the cookie would never come back)', async () => {
      const signedIn = await login(app(), { 'x-forwarded-proto': 'http', 'x-forwarded-for': '203.0.113.11' });
      expect(cookieOf(signedIn, 'verity_session').secure).toBeUndefined();
    });

    it('limits sign-in per client address as the proxy reports it, not per proxy', async () => {
      for (let attempt = 0; attempt < 10; attempt += 1) {
        expect((await login(app(), { 'x-forwarded-for': '203.0.113.20' }, 'wrong password')).statusCode).toBe(401);
      }
      expect((await login(app(), { 'x-forwarded-for': '203.0.113.20' })).statusCode).toBe(429);
      // Another client behind the same proxy is unaffected.
      expect((await login(app(), { 'x-forwarded-for': '203.0.113.21' })).statusCode).toBe(200);
    });
  });
});

describe('session cookies without VERITY_TRUST_PROXY', () => {
  withApp({}, (app) => {
    it('ignores X-Forwarded-Proto from a client: no Secure cookie on an http deployment', async () => {
      const signedIn = await login(app(), { 'x-forwarded-proto': 'https' });
      expect(signedIn.statusCode, signedIn.body).toBe(200);
      expect(cookieOf(signedIn, 'verity_session').secure).toBeUndefined();
    });

    it('ignores X-Forwarded-For from a client: rotating it does not get around the sign-in limit', async () => {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 11; attempt += 1) {
        const response = await app().app.inject({
          method: 'POST',
          url: '/dashboard/api/login',
          payload: { email: EMAIL, password: 'wrong password' },
          headers: { 'x-forwarded-for': `198.51.100.${attempt + 1}` },
          remoteAddress: '192.0.2.50',
        });
        statuses.push(response.statusCode);
      }
      expect(statuses.at(-1)).toBe(429);
    });
  });
});

describe('session cookies with an https VERITY_PUBLIC_URL', () => {
  withApp({ VERITY_PUBLIC_URL: 'https://audit.vendor.example' }, (app) => {
    it('are Secure even when the proxy in front is not trusted', async () => {
      const signedIn = await login(app());
      expect(cookieOf(signedIn, 'verity_session').secure).toBe(true);
      const launched = await launchPortal(app(), {});
      expect(cookieOf(launched, 'verity_portal').secure).toBe(true);
    });
  });
});
