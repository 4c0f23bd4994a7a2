/**
 * The Admin Portal (docs/ui-contract.md): links are single-use and expire after five minutes; a link
 * opens a session restricted to one organization AND to the routes of one intent (a whitelist: every
 * other route is 403), reachable by cookie (launch) or bearer pst_… (embed exchange). Cookie writes need
 * the session's CSRF token, bearer ones do not.
 */
import { randomBytes } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '../../src/shared/tokens.js';
import { describeEachBackend, makeEvent, type TestApp } from '../helpers/app.js';

type Intent = 'audit_logs' | 'log_streams';
type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const PUBLIC_URL = 'https://verity.vendor.example';
const PASSWORD = 'operator password for portal tests';

/** The routes each intent may call, exactly as docs/ui-contract.md lists them (OpenAPI spelling). */
const WHITELIST: Record<Intent, readonly string[]> = {
  audit_logs: [
    'GET /audit_logs/events',
    'GET /audit_logs/events/{id}',
    'GET /audit_logs/actions',
    'POST /audit_logs/exports',
    'GET /audit_logs/exports',
    'GET /audit_logs/exports/{id}',
    'GET /organizations/{id}',
    // Beyond the contract, added by the integrity capability (when present): the organization's own chain head.
    'GET /audit_logs/integrity',
  ],
  log_streams: [
    'GET /log_streams',
    'POST /log_streams',
    'GET /log_streams/{id}',
    'PATCH /log_streams/{id}',
    'DELETE /log_streams/{id}',
    'POST /log_streams/{id}/test',
    'POST /log_streams/{id}/pause',
    'POST /log_streams/{id}/resume',
    'GET /log_streams/{id}/deliveries',
    'GET /organizations/{id}/audit_log_configuration',
  ],
};

interface Seeded {
  orgId: string;
  orgName: string;
  eventId: string;
  streamId: string;
  exportId: string;
}

interface PortalSession {
  bearer: string;
  cookie: string;
  csrf: string;
}

function json<T = Record<string, unknown>>(response: LightMyRequestResponse): T {
  return (response.body === '' ? {} : JSON.parse(response.body)) as T;
}

function openApiRoutes(ctx: TestApp): string[] {
  const doc = ctx.app.swagger() as { paths?: Record<string, Record<string, unknown>> };
  const routes: string[] = [];
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const method of Object.keys(operations)) {
      if (['get', 'put', 'post', 'delete', 'patch'].includes(method)) routes.push(`${method.toUpperCase()} ${path}`);
    }
  }
  return routes;
}

/** Routes documented as needing no credentials (`security: []`: signed download links, the public key). */
function publicRoutes(ctx: TestApp): Set<string> {
  const doc = ctx.app.swagger() as { paths?: Record<string, Record<string, { security?: unknown[] }>> };
  const routes = new Set<string>();
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(operations)) {
      if (Array.isArray(operation.security) && operation.security.length === 0) routes.add(`${method.toUpperCase()} ${path}`);
    }
  }
  return routes;
}

describeEachBackend(
  'admin portal',
  (ctx) => {
    let a: Seeded;
    let b: Seeded;
    let bMarker: string;

    async function inject(options: InjectOptions & { bearer?: string; portalCookie?: string; operatorCookie?: string; csrf?: string }): Promise<LightMyRequestResponse> {
      const { bearer, portalCookie, operatorCookie, csrf, ...rest } = options;
      const headers: Record<string, string> = { ...(rest.headers as Record<string, string> | undefined) };
      if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
      const cookies = [portalCookie === undefined ? undefined : `verity_portal=${portalCookie}`, operatorCookie === undefined ? undefined : `verity_session=${operatorCookie}`];
      if (cookies.some((c) => c !== undefined)) headers.cookie = cookies.filter((c) => c !== undefined).join('; ');
      if (csrf !== undefined) headers['x-csrf-token'] = csrf;
      return ctx().app.inject({ ...rest, headers });
    }

    /** The session probe: always 200 (an ended session is not an error), with signed_in saying which. */
    async function signedIn(options: { bearer?: string; portalCookie?: string; operatorCookie?: string } = {}): Promise<boolean> {
      const response = await inject({ method: 'GET', url: '/portal/api/session', ...options });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const body = json<{ signed_in?: unknown }>(response);
      expect(typeof body.signed_in).toBe('boolean');
      return body.signed_in === true;
    }

    async function seed(label: string, marker: string): Promise<Seeded> {
      const orgName = `Portal ${label} ${marker}`;
      const orgId = await ctx().createOrg(orgName);
      const batch = await ctx().call<{ ids: string[] }>('POST', '/audit_logs/events/batch', {
        body: {
          organization_id: orgId,
          events: [makeEvent({ actor: { id: `actor-${label}`, type: 'user', name: marker }, metadata: { secret: marker } }), makeEvent({ action: `${label}.only` })],
        },
      });
      expect(batch.status).toBe(200);
      const stream = await ctx().call<{ id: string }>('POST', '/log_streams', {
        body: { organization_id: orgId, type: 'GenericHttps', name: `stream ${marker}`, config: { url: `https://siem-${label}.example.com/hook` } },
      });
      expect(stream.status, JSON.stringify(stream.body)).toBe(201);
      const exported = await ctx().call<{ id: string }>('POST', '/audit_logs/exports', {
        body: { organization_id: orgId, range_start: '2020-01-01T00:00:00Z', range_end: '2100-01-01T00:00:00Z' },
      });
      expect(exported.status, JSON.stringify(exported.body)).toBe(201);
      return { orgId, orgName, eventId: batch.body.ids[0] as string, streamId: stream.body.id, exportId: exported.body.id };
    }

    async function generate(body: Record<string, unknown>, key?: string): Promise<{ status: number; link: string; body: Record<string, unknown> }> {
      const response = await ctx().call<Record<string, unknown>>('POST', '/portal/generate_link', { body, ...(key === undefined ? {} : { key }) });
      const link = response.body.link;
      return { status: response.status, link: typeof link === 'string' ? link : '', body: response.body };
    }

    async function linkFor(orgId: string, intent: Intent, extra: Record<string, unknown> = {}): Promise<string> {
      const generated = await generate({ organization: orgId, intent, ...extra });
      expect(generated.status, JSON.stringify(generated.body)).toBe(201);
      return generated.link;
    }

    /** Relative URL of a link, for inject. */
    function pathOf(link: string): string {
      const url = new URL(link);
      return url.pathname + url.search;
    }

    function tokenOf(link: string): string {
      return new URL(link).searchParams.get('token') ?? '';
    }

    async function launch(link: string): Promise<LightMyRequestResponse> {
      return inject({ method: 'GET', url: pathOf(link) });
    }

    /** A session for the intent, by both routes: the launch cookie and an exchanged bearer token. */
    async function openSession(orgId: string, intent: Intent): Promise<PortalSession> {
      const launched = await launch(await linkFor(orgId, intent));
      expect(launched.statusCode).toBe(302);
      const cookie = launched.cookies.find((c) => c.name === 'verity_portal')?.value ?? '';
      const view = await inject({ method: 'GET', url: '/portal/api/session', portalCookie: cookie });
      expect(view.statusCode).toBe(200);
      const exchanged = await inject({ method: 'POST', url: '/portal/api/exchange', payload: { token: tokenOf(await linkFor(orgId, intent)) } });
      expect(exchanged.statusCode).toBe(200);
      return { bearer: json<{ session_token: string }>(exchanged).session_token, cookie, csrf: json<{ csrf_token: string }>(view).csrf_token };
    }

    async function snapshotB(): Promise<unknown> {
      const db = ctx().testDb.db;
      return {
        org: await db.query('select name, external_id, metadata, retention_period_in_days from organizations where id = $1', [b.orgId]),
        events: await db.query('select seq, hash from events where organization_id = $1 order by seq', [b.orgId]),
        streams: await db.query('select id, name, state, config from log_streams where organization_id = $1 order by id', [b.orgId]),
        exports: await db.query<{ n: number }>('select count(*)::int as n from exports where organization_id = $1', [b.orgId]),
        keys: await db.query<{ n: number }>('select count(*)::int as n from api_keys'),
        orgs: await db.query<{ n: number }>('select count(*)::int as n from organizations'),
      };
    }

    function expectNoLeak(response: LightMyRequestResponse): void {
      expect(response.body).not.toContain(bMarker);
      expect(response.body).not.toContain(b.orgId);
    }

    async function systemEvents(action: string): Promise<{ actor: { id: string; type: string }; targets: { id: string }[]; metadata: Record<string, unknown> }[]> {
      const organizationId = await ctx().services.systemAudit.organizationId();
      const response = await ctx().call<{ data: never[] }>('GET', `/audit_logs/events?organization_id=${organizationId}&actions=${action}&limit=100`);
      return response.body.data;
    }

    beforeAll(async () => {
      bMarker = `bportal${randomBytes(4).toString('hex')}`;
      a = await seed('a', `aportal${randomBytes(4).toString('hex')}`);
      b = await seed('b', bMarker);
    });

    describe('POST /portal/generate_link', () => {
      it('answers 201 {link} in the WorkOS shape: a single-use launch link on the public URL', async () => {
        const generated = await generate({ organization: a.orgId, intent: 'audit_logs', return_url: 'https://app.vendor.example/settings' });
        expect(generated.status).toBe(201);
        expect(Object.keys(generated.body)).toEqual(['link']);
        expect(generated.link).toMatch(/^https:\/\/verity\.vendor\.example\/portal\/launch\?token=plt_[A-Za-z0-9_-]{43}$/);
        // Only the token's hash is stored.
        const stored = await ctx().testDb.db.query('select * from portal_links');
        expect(JSON.stringify(stored)).not.toContain(tokenOf(generated.link));
        const embed = await generate({ organization: a.orgId, intent: 'audit_logs', embed: true });
        expect(embed.link).toMatch(/^https:\/\/verity\.vendor\.example\/portal\/embed\?token=plt_/);
      });

      it('refuses other intents, bad redirect URLs, embed outside audit_logs and a missing organization with 422', async () => {
        for (const body of [
          { organization: a.orgId, intent: 'sso' },
          { organization: a.orgId, intent: 'dsync' },
          { organization: a.orgId },
          { intent: 'audit_logs' },
          { organization: a.orgId, intent: 'audit_logs', return_url: 'javascript:alert(document.cookie)' },
          { organization: a.orgId, intent: 'audit_logs', success_url: 'not a url' },
          { organization: a.orgId, intent: 'audit_logs', success_url: 'data:text/html,hi' },
          { organization: a.orgId, intent: 'log_streams', embed: true },
        ]) {
          const response = await generate(body);
          expect(response.status, JSON.stringify(body)).toBe(422);
        }
      });

      it('needs the admin scope and access to the organization; unknown and foreign organizations look alike', async () => {
        expect((await generate({ organization: 'org_01GHZZZZZZZZZZZZZZZZZZZZZZ', intent: 'audit_logs' })).status).toBe(404);
        const adminA = await ctx().createKey(['admin'], a.orgId);
        expect((await generate({ organization: a.orgId, intent: 'log_streams' }, adminA)).status).toBe(201);
        const foreign = await generate({ organization: b.orgId, intent: 'log_streams' }, adminA);
        const ghost = await generate({ organization: 'org_01GHZZZZZZZZZZZZZZZZZZZZZZ', intent: 'log_streams' }, adminA);
        expect(foreign.status).toBe(404);
        expect(ghost.status).toBe(404);
        const readWrite = await ctx().createKey(['events:read', 'events:write']);
        const refused = await generate({ organization: a.orgId, intent: 'audit_logs' }, readWrite);
        expect(refused.status).toBe(403);
        expect(refused.body).toMatchObject({ code: 'forbidden' });
      });

      it('an operator can generate links from the dashboard (cookie + CSRF)', async () => {
        await ctx().services.operators.ensureAdmin('portal-ops@vendor.example', PASSWORD);
        const signedIn = await inject({ method: 'POST', url: '/dashboard/api/login', payload: { email: 'portal-ops@vendor.example', password: PASSWORD }, remoteAddress: '203.0.113.50' });
        const operatorCookie = signedIn.cookies.find((c) => c.name === 'verity_session')?.value ?? '';
        const csrf = json<{ csrf_token: string }>(signedIn).csrf_token;
        const payload = { organization: a.orgId, intent: 'log_streams' };
        expect((await inject({ method: 'POST', url: '/portal/generate_link', operatorCookie, payload })).statusCode).toBe(403);
        const made = await inject({ method: 'POST', url: '/portal/generate_link', operatorCookie, csrf, payload });
        expect(made.statusCode).toBe(201);
        const created = await systemEvents('portal.link_created');
        expect(created.some((event) => event.actor.type === 'operator' && event.targets[0]?.id === a.orgId)).toBe(true);
      });
    });

    describe('opening a link', () => {
      it('launch: exchanges the token for an HttpOnly, SameSite=Lax, Secure (https) cookie and redirects by intent', async () => {
        const response = await launch(await linkFor(a.orgId, 'audit_logs'));
        expect(response.statusCode).toBe(302);
        expect(response.headers.location).toBe('/portal/');
        expect(response.headers['cache-control']).toBe('no-store');
        const cookie = response.cookies.find((c) => c.name === 'verity_portal');
        expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', secure: true, maxAge: 30 * 60 });
        expect(cookie?.value).toMatch(/^pst_/);

        const streams = await launch(await linkFor(a.orgId, 'log_streams'));
        expect(streams.statusCode).toBe(302);
        expect(streams.headers.location).toBe('/portal/log-streams');

        const opened = await systemEvents('portal.opened');
        expect(opened.some((event) => event.targets[0]?.id === a.orgId && event.metadata.intent === 'log_streams')).toBe(true);
      });

      it('a link works once: the second opening gets an HTML page saying to ask for a new link (410)', async () => {
        const link = await linkFor(a.orgId, 'audit_logs');
        // A link checker's HEAD does not use it up.
        const probed = await inject({ method: 'HEAD', url: pathOf(link) });
        expect(probed.statusCode).toBe(200);
        expect(probed.cookies).toEqual([]);
        expect((await launch(link)).statusCode).toBe(302);
        const again = await launch(link);
        expect(again.statusCode).toBe(410);
        expect(again.headers['content-type']).toContain('text/html');
        expect(again.body).toContain('new link');
        expect(again.body).toContain('Acme &amp; Co');
        expect(again.cookies).toEqual([]);
        expect(String(again.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
        expect(again.headers['x-frame-options']).toBe('DENY');
        // And not through the other door either.
        const exchanged = await inject({ method: 'POST', url: '/portal/api/exchange', payload: { token: tokenOf(link) } });
        expect(exchanged.statusCode).toBe(410);
        expect(json(exchanged)).toMatchObject({ code: 'link_expired' });
      });

      it('a link is used at most once even when opened concurrently', async () => {
        const link = await linkFor(a.orgId, 'audit_logs');
        const results = await Promise.all(Array.from({ length: 8 }, () => launch(link)));
        expect(results.filter((r) => r.statusCode === 302)).toHaveLength(1);
        expect(results.filter((r) => r.statusCode === 410)).toHaveLength(7);
        const sessions = await ctx().testDb.db.query('select 1 from portal_sessions s join portal_links l on l.id = s.link_id where l.token_hash = $1', [tokenHash(tokenOf(link))]);
        expect(sessions).toHaveLength(1);
      });

      it('a link expires five minutes after issue', async () => {
        const link = await linkFor(a.orgId, 'audit_logs');
        const rows = await ctx().testDb.db.query<{ minutes: number }>(
          'select extract(epoch from (expires_at - created_at))::int / 60 as minutes from portal_links where token_hash = $1',
          [tokenHash(tokenOf(link))],
        );
        expect(rows[0]?.minutes).toBe(5);
        await ctx().testDb.db.query("update portal_links set expires_at = now() - interval '1 second' where token_hash = $1", [tokenHash(tokenOf(link))]);
        expect((await launch(link)).statusCode).toBe(410);
        expect((await inject({ method: 'POST', url: '/portal/api/exchange', payload: { token: tokenOf(link) } })).statusCode).toBe(410);
      });

      it('unknown or missing tokens: 401', async () => {
        for (const url of ['/portal/launch?token=plt_forged', '/portal/launch', '/portal/launch?token=']) {
          const response = await inject({ method: 'GET', url });
          expect(response.statusCode, url).toBe(401);
          expect(response.headers['content-type']).toContain('text/html');
        }
        const exchanged = await inject({ method: 'POST', url: '/portal/api/exchange', payload: { token: 'plt_forged' } });
        expect(exchanged.statusCode).toBe(401);
      });

      it('embed: the exchange returns a pst_ bearer token; the session describes the organization, intent and brand', async () => {
        const link = await linkFor(a.orgId, 'audit_logs', { embed: true, return_url: 'https://app.vendor.example/back' });
        const exchanged = await inject({ method: 'POST', url: '/portal/api/exchange', payload: { token: tokenOf(link) } });
        expect(exchanged.statusCode).toBe(200);
        const body = json<{ session_token: string; expires_at: string }>(exchanged);
        expect(body.session_token).toMatch(/^pst_[A-Za-z0-9_-]{43}$/);
        expect(Math.abs(Date.parse(body.expires_at) - Date.now() - 30 * 60_000)).toBeLessThan(60_000);
        expect(exchanged.cookies).toEqual([]);

        const view = await inject({ method: 'GET', url: '/portal/api/session', bearer: body.session_token });
        expect(view.statusCode).toBe(200);
        const viewBody = json<{ csrf_token: string }>(view);
        expect(viewBody.csrf_token).toMatch(/^\S{40,}$/);
        expect(viewBody).toEqual({
          signed_in: true,
          organization: { id: a.orgId, name: a.orgName },
          intent: 'audit_logs',
          brand: { name: 'Acme & Co', logo_url: null },
          csrf_token: viewBody.csrf_token,
          return_url: 'https://app.vendor.example/back',
          success_url: null,
          embed: true,
          expires_at: body.expires_at,
        });
        expect(view.headers['cache-control']).toBe('no-store');
        // Signed out is an answer, not an error (a 401 would log a console error on every expired page);
        // it carries the brand for the "ask for a new link" page, and nothing else.
        const none = await inject({ method: 'GET', url: '/portal/api/session' });
        expect(none.statusCode).toBe(200);
        expect(json(none)).toEqual({ signed_in: false, brand: { name: 'Acme & Co', logo_url: null } });
        expect((await ctx().call('GET', '/portal/api/session')).body).toEqual({ signed_in: false, brand: { name: 'Acme & Co', logo_url: null } });
        expect(await signedIn({ bearer: 'pst_forged' })).toBe(false);
      });
    });

    describe('CSRF and session lifetime', () => {
      it('cookie writes need the session’s CSRF token; bearer writes do not', async () => {
        const session = await openSession(a.orgId, 'audit_logs');
        const payload = { organization_id: a.orgId, range_start: '2020-01-01T00:00:00Z', range_end: '2100-01-01T00:00:00Z' };
        const forged = await inject({ method: 'POST', url: '/audit_logs/exports', portalCookie: session.cookie, payload });
        expect(forged.statusCode).toBe(403);
        expect(json(forged)).toMatchObject({ code: 'csrf_failed' });
        const wrong = await inject({ method: 'POST', url: '/audit_logs/exports', portalCookie: session.cookie, csrf: 'nope', payload });
        expect(wrong.statusCode).toBe(403);
        expect((await inject({ method: 'POST', url: '/audit_logs/exports', portalCookie: session.cookie, csrf: session.csrf, payload })).statusCode).toBe(201);
        expect((await inject({ method: 'POST', url: '/audit_logs/exports', bearer: session.bearer, payload })).statusCode).toBe(201);

        const streams = await openSession(a.orgId, 'log_streams');
        const pause = await inject({ method: 'POST', url: `/log_streams/${a.streamId}/pause`, portalCookie: streams.cookie });
        expect(pause.statusCode).toBe(403);
        expect(json(pause)).toMatchObject({ code: 'csrf_failed' });
        expect((await inject({ method: 'POST', url: `/log_streams/${a.streamId}/pause`, portalCookie: streams.cookie, csrf: streams.csrf })).statusCode).toBe(200);
        expect((await inject({ method: 'POST', url: `/log_streams/${a.streamId}/resume`, bearer: streams.bearer })).statusCode).toBe(200);
      });

      it('an expired session is refused, by cookie and by bearer', async () => {
        const session = await openSession(a.orgId, 'audit_logs');
        expect((await inject({ method: 'GET', url: '/audit_logs/events', bearer: session.bearer })).statusCode).toBe(200);
        await ctx().testDb.db.query("update portal_sessions set expires_at = now() - interval '1 second' where token_hash in ($1, $2)", [
          tokenHash(session.bearer),
          tokenHash(session.cookie),
        ]);
        for (const response of [
          await inject({ method: 'GET', url: '/audit_logs/events', bearer: session.bearer }),
          await inject({ method: 'GET', url: '/audit_logs/events', portalCookie: session.cookie }),
        ]) {
          expect(response.statusCode).toBe(401);
          expect(json(response)).toMatchObject({ code: 'unauthorized' });
        }
        expect(await signedIn({ portalCookie: session.cookie })).toBe(false);
        expect(await signedIn({ bearer: session.bearer })).toBe(false);
      });

      it('signing out of the portal ends the session', async () => {
        const session = await openSession(a.orgId, 'audit_logs');
        expect((await inject({ method: 'POST', url: '/portal/api/logout', portalCookie: session.cookie })).statusCode).toBe(403);
        const out = await inject({ method: 'POST', url: '/portal/api/logout', portalCookie: session.cookie, csrf: session.csrf });
        expect(out.statusCode).toBe(204);
        expect(await signedIn({ portalCookie: session.cookie })).toBe(false);
        // The bearer session from another link is independent.
        expect(await signedIn({ bearer: session.bearer })).toBe(true);
      });

      it('with both cookies the operator session is used unless the page asks for the portal one', async () => {
        await ctx().services.operators.ensureAdmin('both-cookies@vendor.example', PASSWORD);
        const signedIn = await inject({ method: 'POST', url: '/dashboard/api/login', payload: { email: 'both-cookies@vendor.example', password: PASSWORD }, remoteAddress: '203.0.113.51' });
        const operatorCookie = signedIn.cookies.find((c) => c.name === 'verity_session')?.value ?? '';
        const session = await openSession(a.orgId, 'audit_logs');
        const both = { operatorCookie, portalCookie: session.cookie };
        expect((await inject({ method: 'GET', url: '/organizations', ...both })).statusCode).toBe(200);
        const asPortal = await inject({ method: 'GET', url: '/organizations', ...both, headers: { 'x-verity-session': 'portal' } });
        expect(asPortal.statusCode).toBe(403);
        const events = await inject({ method: 'GET', url: '/audit_logs/events?limit=100', ...both, headers: { 'x-verity-session': 'portal' } });
        expect(events.statusCode).toBe(200);
        expectNoLeak(events);
        expect(json<{ organization: { id: string } }>(await inject({ method: 'GET', url: '/portal/api/session', ...both })).organization.id).toBe(a.orgId);
        expect(json(await inject({ method: 'GET', url: '/dashboard/api/session', ...both }))).toMatchObject({ signed_in: true });
        // The portal's pages are recognised by their same-origin Referer; other origins' are ignored.
        const fromPortal = await inject({ method: 'GET', url: '/organizations', ...both, headers: { host: 'verity.test', referer: 'http://verity.test/portal/log-streams' } });
        expect(fromPortal.statusCode).toBe(403);
        const fromDashboard = await inject({ method: 'GET', url: '/organizations', ...both, headers: { host: 'verity.test', referer: 'http://verity.test/dashboard/events' } });
        expect(fromDashboard.statusCode).toBe(200);
        const foreign = await inject({ method: 'GET', url: '/organizations', ...both, headers: { host: 'verity.test', referer: 'https://evil.example/portal/' } });
        expect(foreign.statusCode).toBe(200);
        // The header wins over the Referer.
        const explicit = await inject({ method: 'GET', url: '/organizations', ...both, headers: { host: 'verity.test', referer: 'http://verity.test/portal/', 'x-verity-session': 'operator' } });
        expect(explicit.statusCode).toBe(200);
        // A portal session is never a dashboard session.
        expect(json(await inject({ method: 'GET', url: '/dashboard/api/session', portalCookie: session.cookie }))).toEqual({ signed_in: false });
      });
    });

    describe('isolation: a portal session reaches only its intent’s routes, only for its organization', () => {
      function concrete(route: string, own: Seeded): { method: Method; url: string; payload?: Record<string, unknown> } {
        const [method, path] = route.split(' ') as [Method, string];
        const url = path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
          if (path.startsWith('/organizations')) return own.orgId;
          if (path.startsWith('/audit_logs/events')) return own.eventId;
          if (path.startsWith('/log_streams')) return own.streamId;
          if (path.startsWith('/audit_logs/exports')) return own.exportId;
          if (name === 'action') return 'user.signed_in';
          return 'x';
        });
        const withOrg = `${url}${url.includes('?') ? '&' : '?'}organization_id=${own.orgId}`;
        const payload = method === 'GET' || method === 'DELETE' ? undefined : { organization_id: own.orgId, name: 'portal-probe', organization: own.orgId, intent: 'audit_logs' };
        return { method, url: withOrg, ...(payload === undefined ? {} : { payload }) };
      }

      for (const intent of ['audit_logs', 'log_streams'] as const) {
        it(`[${intent}] every route outside its whitelist answers 403 forbidden, by bearer and by cookie, and changes nothing`, async () => {
          const session = await openSession(a.orgId, intent);
          const before = await snapshotB();
          const aBefore = await ctx().testDb.db.query('select name, retention_period_in_days from organizations where id = $1', [a.orgId]);
          const routes = openApiRoutes(ctx());
          expect(routes.length).toBeGreaterThan(20);
          let checked = 0;
          for (const route of routes) {
            if (WHITELIST[intent].includes(route)) continue;
            const { method, url, payload } = concrete(route, a);
            // Public routes (health, signed download links) need no credentials at all: not the portal's concern.
            if (publicRoutes(ctx()).has(route)) continue;
            const anonymous = await inject({ method, url, ...(payload === undefined ? {} : { payload }) });
            if (anonymous.statusCode !== 401) continue;
            for (const credentials of [{ bearer: session.bearer }, { portalCookie: session.cookie, csrf: session.csrf }]) {
              const response = await inject({ method, url, ...credentials, ...(payload === undefined ? {} : { payload }) });
              expect(response.statusCode, `${intent} ${route}: ${response.body}`).toBe(403);
              expect(json(response)).toMatchObject({ code: 'forbidden' });
            }
            if (method === 'GET') {
              const head = await inject({ method: 'HEAD', url, bearer: session.bearer });
              expect(head.statusCode, `HEAD ${route}`).toBe(403);
            }
            checked += 1;
          }
          expect(checked).toBeGreaterThan(10);
          expect(await snapshotB()).toEqual(before);
          expect(await ctx().testDb.db.query('select name, retention_period_in_days from organizations where id = $1', [a.orgId])).toEqual(aBefore);
        });

        it(`[${intent}] each whitelisted route is open to it (the 403s are about the route, not a broken session)`, async () => {
          const session = await openSession(a.orgId, intent);
          const present = new Set(openApiRoutes(ctx()));
          for (const route of WHITELIST[intent]) {
            if (!present.has(route)) continue;
            if (route === 'POST /log_streams/{id}/test' || route === 'DELETE /log_streams/{id}') continue; // no network; deletion tested below
            const { method, url, payload } = concrete(route, a);
            const body = route === 'POST /audit_logs/exports' ? { organization_id: a.orgId, range_start: '2020-01-01T00:00:00Z', range_end: '2100-01-01T00:00:00Z' }
              : route === 'POST /log_streams' ? { organization_id: a.orgId, type: 'GenericHttps', config: { url: 'https://siem-new.example.com/hook' } }
                : route === 'PATCH /log_streams/{id}' ? { name: 'renamed in portal' }
                  : payload;
            const response = await inject({ method, url, bearer: session.bearer, ...(body === undefined ? {} : { payload: body }) });
            expect([200, 201], `${route}: ${response.body}`).toContain(response.statusCode);
          }
          // The other intent's routes are closed to it.
          const other: Intent = intent === 'audit_logs' ? 'log_streams' : 'audit_logs';
          for (const route of WHITELIST[other]) {
            if (!present.has(route)) continue;
            const { method, url, payload } = concrete(route, a);
            const response = await inject({ method, url, bearer: session.bearer, ...(payload === undefined ? {} : { payload }) });
            expect(response.statusCode, route).toBe(403);
          }
        });
      }

      it('[audit_logs] whitelisted routes never reach another organization', async () => {
        const { bearer } = await openSession(a.orgId, 'audit_logs');
        const before = await snapshotB();
        const denied: [Method, string, Record<string, unknown>?][] = [
          ['GET', `/audit_logs/events?organization_id=${b.orgId}`],
          ['GET', `/audit_logs/events/${b.eventId}`],
          ['GET', `/organizations/${b.orgId}`],
          ['GET', `/audit_logs/exports/${b.exportId}`],
          ['GET', `/audit_logs/exports?organization_id=${b.orgId}`],
          ['POST', '/audit_logs/exports', { organization_id: b.orgId, range_start: '2020-01-01T00:00:00Z', range_end: '2100-01-01T00:00:00Z' }],
        ];
        if (openApiRoutes(ctx()).includes('GET /audit_logs/integrity')) denied.push(['GET', `/audit_logs/integrity?organization_id=${b.orgId}`]);
        for (const [method, url, payload] of denied) {
          const response = await inject({ method, url, bearer, ...(payload === undefined ? {} : { payload }) });
          expect([400, 404], `${method} ${url}: ${response.body}`).toContain(response.statusCode);
          expect(response.body).not.toContain(bMarker);
        }
        // Without organization_id the search is implicitly A's, whatever the filters.
        for (const query of ['', '?limit=100', `?organization_id[]=${b.orgId}`, `?q=${bMarker}`, `?metadata[secret]=${bMarker}`, '?actions=b.only', `?after=${b.eventId}`]) {
          const response = await inject({ method: 'GET', url: `/audit_logs/events${query}`, bearer });
          expect([200, 400], query).toContain(response.statusCode);
          expectNoLeak(response);
          if (response.statusCode === 200) for (const event of json<{ data: { organization_id: string }[] }>(response).data) expect(event.organization_id).toBe(a.orgId);
        }
        // The export list is implicitly A's too.
        const exportList = await inject({ method: 'GET', url: '/audit_logs/exports?limit=100', bearer });
        expect(exportList.statusCode).toBe(200);
        expect(exportList.body).not.toContain(b.exportId);
        const listed = json<{ data: { id: string; organization_id: string }[] }>(exportList).data;
        expect(listed.map((item) => item.id)).toContain(a.exportId);
        for (const item of listed) expect(item.organization_id).toBe(a.orgId);
        const mine = await inject({ method: 'GET', url: '/audit_logs/events?limit=100', bearer });
        expect(json<{ data: unknown[] }>(mine).data.length).toBeGreaterThanOrEqual(2);
        expect((await inject({ method: 'GET', url: `/audit_logs/events/${a.eventId}`, bearer })).statusCode).toBe(200);
        expect(await snapshotB()).toEqual(before);
      });

      it('[log_streams] whitelisted routes never reach another organization', async () => {
        const { bearer } = await openSession(a.orgId, 'log_streams');
        const before = await snapshotB();
        const denied: [Method, string, Record<string, unknown>?][] = [
          ['GET', `/log_streams?organization_id=${b.orgId}`],
          ['POST', '/log_streams', { organization_id: b.orgId, type: 'GenericHttps', config: { url: 'https://evil.example.com/hook' } }],
          ['GET', `/log_streams/${b.streamId}`],
          ['PATCH', `/log_streams/${b.streamId}`, { name: 'taken over', config: { url: 'https://evil.example.com/hook' } }],
          ['DELETE', `/log_streams/${b.streamId}`],
          ['POST', `/log_streams/${b.streamId}/test`],
          ['POST', `/log_streams/${b.streamId}/pause`],
          ['POST', `/log_streams/${b.streamId}/resume`],
          ['GET', `/log_streams/${b.streamId}/deliveries`],
          ['GET', `/organizations/${b.orgId}/audit_log_configuration`],
        ];
        for (const [method, url, payload] of denied) {
          const response = await inject({ method, url, bearer, ...(payload === undefined ? {} : { payload }) });
          expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(404);
          expect(response.body).not.toContain(bMarker);
        }
        const listed = await inject({ method: 'GET', url: '/log_streams?limit=100', bearer });
        expect(listed.statusCode).toBe(200);
        expectNoLeak(listed);
        const ids = json<{ data: { id: string; organization_id: string }[] }>(listed).data;
        expect(ids.map((s) => s.id)).toContain(a.streamId);
        for (const stream of ids) expect(stream.organization_id).toBe(a.orgId);

        // Its own organization: create, change, delete.
        const created = await inject({ method: 'POST', url: '/log_streams', bearer, payload: { organization_id: a.orgId, type: 'GenericHttps', config: { url: 'https://siem-own.example.com/hook' } } });
        expect(created.statusCode).toBe(201);
        const id = json<{ id: string }>(created).id;
        expect((await inject({ method: 'DELETE', url: `/log_streams/${id}`, bearer })).statusCode).toBe(204);
        // Replay is not in the portal's contract.
        expect((await inject({ method: 'POST', url: `/log_streams/${a.streamId}/replay`, bearer, payload: { from: '2020-01-01T00:00:00Z' } })).statusCode).toBe(403);
        expect(await snapshotB()).toEqual(before);
      });

      it('a log_streams session cannot use its admin scope anywhere else: organization, keys, retention, schemas, events', async () => {
        const { bearer } = await openSession(a.orgId, 'log_streams');
        for (const [method, url, payload] of [
          ['DELETE', `/organizations/${a.orgId}`, undefined],
          ['PUT', `/organizations/${a.orgId}`, { name: 'renamed' }],
          ['PUT', `/organizations/${a.orgId}/audit_logs_retention`, { retention_period_in_days: 1 }],
          ['POST', '/api_keys', { name: 'escalate', scopes: ['admin'], organization_id: a.orgId }],
          ['POST', '/portal/generate_link', { organization: a.orgId, intent: 'log_streams' }],
          ['POST', '/audit_logs/events', { organization_id: a.orgId, event: makeEvent() }],
          ['GET', `/audit_logs/events?organization_id=${a.orgId}`, undefined],
          ['POST', '/audit_logs/actions/portal.probe/schemas', { targets: [{ type: 't' }] }],
        ] as const) {
          const response = await inject({ method, url, bearer, ...(payload === undefined ? {} : { payload }) });
          expect(response.statusCode, `${method} ${url}`).toBe(403);
        }
        expect((await ctx().call('GET', `/organizations/${a.orgId}`)).status).toBe(200);
      });
    });
  },
  { VERITY_PUBLIC_URL: PUBLIC_URL, VERITY_PORTAL_SESSION_MINUTES: '30', VERITY_BRAND_NAME: 'Acme & Co' },
);
