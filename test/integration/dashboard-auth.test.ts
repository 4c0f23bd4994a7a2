/**
 * Operator sign-in for the dashboard (docs/ui-contract.md): sessions in HttpOnly cookies, one generic
 * answer for bad credentials, a per-address sign-in limit, the one-time setup link, CSRF on every
 * cookie-authenticated write, the operator cookie acting as an unrestricted admin, administrative actions
 * recorded in the system organization, and the static UI with its security headers.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { tokenHash } from '../../src/shared/tokens.js';
import { describeEachBackend, describeEachBackendWith, testConfig } from '../helpers/app.js';
import { createTestDb } from '../helpers/db.js';

const PASSWORD = 'correct horse battery staple';

interface Session {
  cookie: string;
  csrf: string;
  operatorId: string;
}

let addressCounter = 0;
/** Each test signs in from its own address, so the per-address limit of one never affects another. */
function freshAddress(): string {
  addressCounter += 1;
  return `198.51.100.${addressCounter}`;
}

function setCookie(response: LightMyRequestResponse, name: string): LightMyRequestResponse['cookies'][number] {
  const found = response.cookies.find((cookie) => cookie.name === name);
  if (found === undefined) throw new Error(`no ${name} cookie in ${JSON.stringify(response.headers['set-cookie'])}`);
  return found;
}

/** An error body: exactly {message, code}, with a non-empty message. */
function expectError(response: LightMyRequestResponse, code: string): void {
  const body = json(response);
  expect(Object.keys(body).sort()).toEqual(['code', 'message']);
  expect(body.code).toBe(code);
  expect(body.message).toMatch(/\S/);
}

function json(response: LightMyRequestResponse): Record<string, unknown> {
  return response.body === '' ? {} : (JSON.parse(response.body) as Record<string, unknown>);
}

describeEachBackend('dashboard sign-in', (ctx) => {
  let email: string;

  async function inject(options: InjectOptions & { cookie?: string; csrf?: string }): Promise<LightMyRequestResponse> {
    const { cookie, csrf, ...rest } = options;
    const headers: Record<string, string> = { ...(rest.headers as Record<string, string> | undefined) };
    if (cookie !== undefined) headers.cookie = `verity_session=${cookie}`;
    if (csrf !== undefined) headers['x-csrf-token'] = csrf;
    return ctx().app.inject({ ...rest, headers });
  }

  /** The session probe: always 200 (being signed out is not an error), with signed_in saying which. */
  async function signedIn(cookie?: string): Promise<boolean> {
    const response = await inject({ method: 'GET', url: '/dashboard/api/session', ...(cookie === undefined ? {} : { cookie }) });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = json(response);
    expect(typeof body.signed_in).toBe('boolean');
    return body.signed_in === true;
  }

  async function login(address = freshAddress(), as = email, password = PASSWORD): Promise<Session> {
    const response = await inject({ method: 'POST', url: '/dashboard/api/login', payload: { email: as, password }, remoteAddress: address });
    expect(response.statusCode, response.body).toBe(200);
    const body = json(response) as { operator: { id: string }; csrf_token: string };
    return { cookie: setCookie(response, 'verity_session').value, csrf: body.csrf_token, operatorId: body.operator.id };
  }

  async function systemEvents(action: string): Promise<{ actor: { id: string; type: string }; metadata: Record<string, unknown>; context: { location: string } }[]> {
    const organizationId = await ctx().services.systemAudit.organizationId();
    const response = await ctx().call<{ data: never[] }>('GET', `/audit_logs/events?organization_id=${organizationId}&actions=${action}&limit=100`);
    expect(response.status).toBe(200);
    return response.body.data;
  }

  describe('the one-time setup link (before any operator exists)', () => {
    it('creates the first operator once, signs them in, and voids every other setup link', async () => {
      const token = await ctx().services.operators.createSetupToken();
      const other = await ctx().services.operators.createSetupToken();
      if (token === undefined || other === undefined) throw new Error('no setup token although no operator exists');
      const setupEmail = `first-${randomBytes(4).toString('hex')}@vendor.example`;

      const short = await inject({ method: 'POST', url: '/dashboard/api/setup', payload: { token, email: setupEmail, password: 'too short' }, remoteAddress: freshAddress() });
      expect(short.statusCode).toBe(422);

      const wrong = await inject({ method: 'POST', url: '/dashboard/api/setup', payload: { token: 'vsu_not-a-real-token', email: setupEmail, password: PASSWORD }, remoteAddress: freshAddress() });
      expect(wrong.statusCode).toBe(410);
      expect(json(wrong)).toMatchObject({ code: 'link_expired' });

      const done = await inject({ method: 'POST', url: '/dashboard/api/setup', payload: { token, email: setupEmail.toUpperCase(), password: PASSWORD }, remoteAddress: freshAddress() });
      expect(done.statusCode, done.body).toBe(200);
      const body = json(done) as { operator: { id: string; email: string }; csrf_token: string };
      expect(body.operator.email).toBe(setupEmail);
      expect(body.csrf_token).toMatch(/\S{40,}/);
      const cookie = setCookie(done, 'verity_session').value;
      expect(await signedIn(cookie)).toBe(true);

      for (const used of [token, other]) {
        const again = await inject({ method: 'POST', url: '/dashboard/api/setup', payload: { token: used, email: `x-${setupEmail}`, password: PASSWORD }, remoteAddress: freshAddress() });
        expect(again.statusCode).toBe(410);
      }
      expect(await ctx().services.operators.createSetupToken()).toBeUndefined();
      const created = await systemEvents('operator.created');
      expect(created.some((event) => event.actor.id === body.operator.id)).toBe(true);
    });

    it('an expired setup link is refused', async () => {
      await ctx().testDb.db.query('delete from operators');
      const token = await ctx().services.operators.createSetupToken();
      if (token === undefined) throw new Error('no setup token');
      await ctx().testDb.db.query("update operator_setup_tokens set expires_at = now() - interval '1 second' where token_hash = $1", [tokenHash(token)]);
      const response = await inject({ method: 'POST', url: '/dashboard/api/setup', payload: { token, email: 'late@vendor.example', password: PASSWORD }, remoteAddress: freshAddress() });
      expect(response.statusCode).toBe(410);
      expect((await ctx().testDb.db.query('select 1 from operators')).length).toBe(0);
    });
  });

  describe('with an operator', () => {
    beforeAll(async () => {
      email = `ops-${randomBytes(4).toString('hex')}@vendor.example`;
      await ctx().services.operators.ensureAdmin(email, PASSWORD);
    });

    it('signs in: 200 with the operator and a CSRF token; the cookie is HttpOnly, SameSite=Lax, Path=/, lasts the session', async () => {
      const response = await inject({ method: 'POST', url: '/dashboard/api/login', payload: { email: email.toUpperCase(), password: PASSWORD }, remoteAddress: freshAddress() });
      expect(response.statusCode).toBe(200);
      const body = json(response) as { operator: { id: string; email: string }; csrf_token: string };
      expect(body.operator.id).toMatch(/^operator_/);
      expect(body.operator.email).toBe(email);
      expect(Object.keys(body).sort()).toEqual(['csrf_token', 'operator']);
      const cookie = setCookie(response, 'verity_session');
      expect(cookie.httpOnly).toBe(true);
      expect(cookie.sameSite).toBe('Lax');
      expect(cookie.path).toBe('/');
      // VERITY_PUBLIC_URL is http here: a Secure cookie would never come back.
      expect(cookie.secure).toBeUndefined();
      expect(cookie.maxAge).toBe(12 * 3600);
      expect(response.headers['cache-control']).toBe('no-store');
      // Only a hash is stored: the database never holds a usable session.
      const stored = await ctx().testDb.db.query<{ token_hash: string }>('select token_hash from operator_sessions');
      expect(JSON.stringify(stored)).not.toContain(cookie.value);

      const session = await inject({ method: 'GET', url: '/dashboard/api/session', cookie: cookie.value });
      expect(session.statusCode).toBe(200);
      expect(json(session)).toEqual({ signed_in: true, operator: body.operator, csrf_token: body.csrf_token });

      const signedIn = await systemEvents('operator.signed_in');
      expect(signedIn.some((event) => event.actor.id === body.operator.id && event.actor.type === 'operator')).toBe(true);
      const last = await ctx().testDb.db.query<{ last_login_at: Date | null }>('select last_login_at from operators where id = $1', [body.operator.id]);
      expect(last[0]?.last_login_at).not.toBeNull();
    });

    it('bad credentials: 401 invalid_credentials with the same body for an unknown email and a wrong password', async () => {
      const address = freshAddress();
      const wrongPassword = await inject({ method: 'POST', url: '/dashboard/api/login', payload: { email, password: `${PASSWORD}!` }, remoteAddress: address });
      const unknownEmail = await inject({ method: 'POST', url: '/dashboard/api/login', payload: { email: 'nobody@vendor.example', password: PASSWORD }, remoteAddress: address });
      expect(wrongPassword.statusCode).toBe(401);
      expect(unknownEmail.statusCode).toBe(401);
      expectError(wrongPassword, 'invalid_credentials');
      expect(unknownEmail.body).toBe(wrongPassword.body);
      expect(wrongPassword.cookies).toEqual([]);
      expect(JSON.stringify(await systemEvents('operator.sign_in_failed'))).toContain('nobody@vendor.example');
    });

    it('GET /dashboard/api/session without a valid cookie is 200 {signed_in: false}, not an error a browser logs; an API key is not a dashboard session', async () => {
      const none = await inject({ method: 'GET', url: '/dashboard/api/session' });
      expect(none.statusCode).toBe(200);
      expect(json(none)).toEqual({ signed_in: false });
      expect(await signedIn()).toBe(false);
      expect(await signedIn('vss_forged')).toBe(false);
      const withKey = await ctx().call('GET', '/dashboard/api/session');
      expect(withKey.status).toBe(200);
      expect(withKey.body).toEqual({ signed_in: false });
    });

    it('limits sign-in attempts per address: 10 a minute, then 429 with Retry-After; other addresses are unaffected', async () => {
      const address = freshAddress();
      for (let attempt = 0; attempt < 10; attempt += 1) {
        const response = await inject({ method: 'POST', url: '/dashboard/api/login', payload: { email, password: 'wrong password' }, remoteAddress: address });
        expect(response.statusCode).toBe(401);
      }
      // Even the right password is refused now: the limit is on attempts, not failures.
      const limited = await inject({ method: 'POST', url: '/dashboard/api/login', payload: { email, password: PASSWORD }, remoteAddress: address });
      expect(limited.statusCode).toBe(429);
      expect(json(limited)).toMatchObject({ code: 'rate_limit_exceeded' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(limited.cookies).toEqual([]);
      await login(freshAddress());
    });

    it('counts sign-in attempts from one IPv6 /64 together: rotating addresses within it gets no more guesses', async () => {
      // Ten different addresses, all in 2001:db8:d5:1::/64, each guessing once.
      for (let attempt = 0; attempt < 10; attempt += 1) {
        const response = await inject({ method: 'POST', url: '/dashboard/api/login', payload: { email, password: 'wrong password' }, remoteAddress: `2001:db8:d5:1:${(attempt + 1).toString(16)}::1` });
        expect(response.statusCode).toBe(401);
      }
      const limited = await inject({ method: 'POST', url: '/dashboard/api/login', payload: { email, password: PASSWORD }, remoteAddress: '2001:db8:d5:1:ffff:ffff:ffff:fffe' });
      expect(limited.statusCode).toBe(429);
      expect(json(limited)).toMatchObject({ code: 'rate_limit_exceeded' });
      // The setup link shares the budget: it is the other password-taking endpoint.
      const setup = await inject({ method: 'POST', url: '/dashboard/api/setup', payload: { token: 'vsu_not-a-real-token', email: 'x@vendor.example', password: PASSWORD }, remoteAddress: '2001:db8:d5:1::2' });
      expect(setup.statusCode).toBe(429);
      // The neighbouring /64 is another client.
      await login('2001:db8:d5:2::1');
    });

    it('the operator cookie acts as an unrestricted admin on the regular API', async () => {
      const { cookie, csrf } = await login();
      const orgs = await inject({ method: 'GET', url: '/organizations', cookie });
      expect(orgs.statusCode).toBe(200);
      const created = await inject({ method: 'POST', url: '/organizations', cookie, csrf, payload: { name: 'Made in the dashboard' } });
      expect(created.statusCode, created.body).toBe(201);
      const orgId = (json(created) as { id: string }).id;
      expect((await inject({ method: 'GET', url: '/api_keys', cookie })).statusCode).toBe(200);
      const key = await inject({ method: 'POST', url: '/api_keys', cookie, csrf, payload: { name: 'from dashboard', scopes: ['events:write'], organization_id: orgId } });
      expect(key.statusCode).toBe(201);
      const event = await inject({
        method: 'POST',
        url: '/audit_logs/events',
        cookie,
        csrf,
        payload: { organization_id: orgId, event: { action: 'a.b', occurred_at: new Date().toISOString(), actor: { id: 'u', type: 'user' }, targets: [], context: { location: '1.2.3.4' } } },
      });
      expect(event.statusCode).toBe(200);
      expect((await inject({ method: 'GET', url: `/audit_logs/events?organization_id=${orgId}`, cookie })).statusCode).toBe(200);
      expect((await inject({ method: 'DELETE', url: `/organizations/${orgId}`, cookie, csrf })).statusCode).toBe(204);
    });

    it('CSRF: every cookie-authenticated write needs x-csrf-token equal to the session’s; reads and bearer requests do not', async () => {
      const { cookie, csrf } = await login();
      const other = await login();
      const before = await ctx().testDb.db.query<{ n: number }>('select count(*)::int as n from organizations');
      for (const [label, headers] of [
        ['no header', {}],
        ['a wrong token', { 'x-csrf-token': 'not-the-token' }],
        ['another session’s token', { 'x-csrf-token': other.csrf }],
        ['an empty token', { 'x-csrf-token': '' }],
      ] as const) {
        for (const [method, url, payload] of [
          ['POST', '/organizations', { name: 'forged' }],
          ['PUT', '/organizations/org_any', { name: 'forged' }],
          ['DELETE', '/organizations/org_any', undefined],
          ['POST', '/dashboard/api/logout', undefined],
        ] as const) {
          const response = await inject({ method, url, cookie, headers: { ...headers }, ...(payload === undefined ? {} : { payload }) });
          expect(response.statusCode, `${label} ${method} ${url}`).toBe(403);
          expectError(response, 'csrf_failed');
        }
      }
      expect(await ctx().testDb.db.query<{ n: number }>('select count(*)::int as n from organizations')).toEqual(before);
      // The session survived the forged sign-out.
      expect(await signedIn(cookie)).toBe(true);
      // Reads need no token; the right token lets the write through.
      expect((await inject({ method: 'GET', url: '/organizations', cookie })).statusCode).toBe(200);
      expect((await inject({ method: 'HEAD', url: '/organizations', cookie })).statusCode).toBe(200);
      const created = await inject({ method: 'POST', url: '/organizations', cookie, csrf, payload: { name: 'genuine' } });
      expect(created.statusCode).toBe(201);
      // Bearer credentials are never sent by a browser on its own: no token needed.
      const withKey = await ctx().call('POST', '/organizations', { body: { name: 'by key' } });
      expect(withKey.status).toBe(201);
    });

    it('a request with an Authorization header is judged by it alone, never by the cookie', async () => {
      const { cookie } = await login();
      const response = await inject({ method: 'GET', url: '/organizations', cookie, headers: { authorization: 'Bearer sk_not_a_real_key_0000000000' } });
      expect(response.statusCode).toBe(401);
      const restricted = await ctx().createKey(['events:read'], await ctx().createOrg());
      const narrowed = await inject({ method: 'GET', url: '/api_keys', cookie, headers: { authorization: `Bearer ${restricted}` } });
      expect(narrowed.statusCode).toBe(403);
    });

    it('signs out: 204, the cookie is cleared, the session is dead everywhere', async () => {
      const { cookie, csrf, operatorId } = await login();
      const response = await inject({ method: 'POST', url: '/dashboard/api/logout', cookie, csrf });
      expect(response.statusCode).toBe(204);
      const cleared = setCookie(response, 'verity_session');
      expect(cleared.value).toBe('');
      expect(cleared.expires?.getTime() ?? 0).toBeLessThanOrEqual(Date.now());
      expect(await signedIn(cookie)).toBe(false);
      expect((await inject({ method: 'GET', url: '/organizations', cookie })).statusCode).toBe(401);
      const signedOut = await systemEvents('operator.signed_out');
      expect(signedOut.some((event) => event.actor.id === operatorId)).toBe(true);
    });

    it('an expired session is refused', async () => {
      const { cookie } = await login();
      await ctx().testDb.db.query("update operator_sessions set expires_at = now() - interval '1 second' where token_hash = $1", [tokenHash(cookie)]);
      expect(await signedIn(cookie)).toBe(false);
      expect((await inject({ method: 'GET', url: '/organizations', cookie })).statusCode).toBe(401);
    });

    it('changing VERITY_ADMIN_PASSWORD resets the password and ends that operator’s sessions', async () => {
      const adminEmail = `reset-${randomBytes(4).toString('hex')}@vendor.example`;
      await ctx().services.operators.ensureAdmin(adminEmail, PASSWORD);
      const { cookie } = await login(freshAddress(), adminEmail);
      // The same password again changes nothing.
      await ctx().services.operators.ensureAdmin(adminEmail, PASSWORD);
      expect(await signedIn(cookie)).toBe(true);
      await ctx().services.operators.ensureAdmin(adminEmail, `${PASSWORD} v2`);
      expect(await signedIn(cookie)).toBe(false);
      const old = await inject({ method: 'POST', url: '/dashboard/api/login', payload: { email: adminEmail, password: PASSWORD }, remoteAddress: freshAddress() });
      expect(old.statusCode).toBe(401);
      await login(freshAddress(), adminEmail, `${PASSWORD} v2`);
    });

    it('the live tail (SSE) works with the cookie', async () => {
      const { cookie } = await login();
      const org = await ctx().createOrg();
      const app = ctx().app;
      if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const controller = new AbortController();
      try {
        const response = await fetch(`http://127.0.0.1:${port}/audit_logs/events/stream?organization_id=${org}`, {
          headers: { cookie: `verity_session=${cookie}` },
          signal: controller.signal,
        });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toContain('text/event-stream');
      } finally {
        controller.abort();
      }
    });
  });
});

/** A started app whose web root is a directory the test controls. */
interface UiApp {
  app: FastifyInstance;
  builtRoot: string;
  close(): Promise<void>;
}

async function startUiApps(kind: 'pglite' | 'postgres'): Promise<{ built: UiApp; unbuilt: UiApp; close(): Promise<void> }> {
  const builtRoot = mkdtempSync(path.join(tmpdir(), 'verity-web-'));
  mkdirSync(path.join(builtRoot, 'assets'));
  writeFileSync(path.join(builtRoot, 'index.html'), '<!doctype html><html><head><script type="module" src="/assets/index-AbCdEf12.js"></script></head><body><div id="root"></div></body></html>');
  writeFileSync(path.join(builtRoot, 'assets', 'index-AbCdEf12.js'), 'console.log("app")');
  writeFileSync(path.join(builtRoot, 'assets', 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(path.join(builtRoot, 'assets', '.secret'), 'dotfile');
  const env = { VERITY_PORTAL_FRAME_ANCESTORS: 'https://app.vendor.example  https://*.vendor.example', VERITY_BRAND_LOGO_URL: 'https://cdn.vendor.example/logo.svg' };
  const start = async (root: string): Promise<UiApp> => {
    const testDb = await createTestDb(kind);
    const { app } = await buildApp({ config: testConfig(env), db: testDb.db, secretKey: randomBytes(32), webRoot: root });
    return {
      app,
      builtRoot,
      close: async () => {
        await app.close();
        await testDb.drop();
      },
    };
  };
  const built = await start(builtRoot);
  const unbuilt = await start(path.join(builtRoot, 'does-not-exist'));
  return {
    built,
    unbuilt,
    close: async () => {
      await built.close();
      await unbuilt.close();
      rmSync(builtRoot, { recursive: true, force: true });
    },
  };
}

describeEachBackendWith('static UI', (kind) => startUiApps(kind), (ctx) => {
  const get = (app: FastifyInstance, url: string): Promise<LightMyRequestResponse> => app.inject({ method: 'GET', url });

  it('serves index.html for every dashboard and portal page, with CSP and no framing', async () => {
    for (const url of ['/dashboard', '/dashboard/', '/dashboard/events', '/dashboard/organizations/org_1?tab=usage', '/dashboard/setup?token=x', '/portal', '/portal/', '/portal/log-streams', '/portal/log-streams/als_1']) {
      const response = await get(ctx().built.app, url);
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toContain('text/html');
      expect(response.body).toContain('<div id="root">');
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("'unsafe-eval'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain('img-src \'self\' data: https://cdn.vendor.example');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['referrer-policy']).toBe('same-origin');
    }
  });

  it('the embeddable viewer may be framed by the configured origins only', async () => {
    const response = await get(ctx().built.app, '/portal/embed?token=plt_x');
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-frame-options']).toBeUndefined();
    expect(String(response.headers['content-security-policy'])).toContain('frame-ancestors https://app.vendor.example https://*.vendor.example');
  });

  it('serves hashed assets as immutable, others revalidated, never dotfiles', async () => {
    const script = await get(ctx().built.app, '/assets/index-AbCdEf12.js');
    expect(script.statusCode).toBe(200);
    expect(script.headers['cache-control']).toContain('immutable');
    const icon = await get(ctx().built.app, '/assets/favicon.svg');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
    expect((await get(ctx().built.app, '/assets/.secret')).statusCode).toBe(404);
    expect((await get(ctx().built.app, '/assets/missing.js')).statusCode).toBe(404);
    expect((await get(ctx().built.app, '/assets/../index.html')).body).not.toContain('console.log');
  });

  it('server paths under the app prefixes are never answered with the page', async () => {
    for (const url of ['/dashboard/api/nope', '/portal/api/nope', '/portal/generate_link', '/dashboard/api']) {
      const response = await get(ctx().built.app, url);
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type']).toContain('application/json');
    }
  });

  it('without a build the pages answer 503 saying how to build', async () => {
    const response = await get(ctx().unbuilt.app, '/dashboard');
    expect(response.statusCode).toBe(503);
    expectError(response, 'unavailable');
    expect(json(response).message).toContain('npm run build');
    expect((await get(ctx().unbuilt.app, '/portal/embed')).statusCode).toBe(503);
  });

  it('UI pages are not in the OpenAPI document', () => {
    const doc = ctx().built.app.swagger() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/dashboard') || p.startsWith('/assets') || p === '/portal/embed' || p === '/portal/launch')).toEqual([]);
    expect(Object.keys(doc.paths)).toContain('/portal/generate_link');
  });

  it('the API still wants a key next to the public pages', async () => {
    const response = await ctx().built.app.inject({ method: 'GET', url: '/organizations' });
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'unauthorized' });
  });
});
