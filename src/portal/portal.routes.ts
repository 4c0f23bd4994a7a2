import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config/config.js';
import { AppError } from '../errors/app-error.js';
import { PORTAL_COOKIE, sessionCookieOptions } from '../http/plugins/auth.js';
import { setPageHeaders } from '../http/plugins/static-ui.js';
import type { PortalIntent } from '../keys/keys.service.js';
import { requestContext, type SystemAudit } from '../system-audit/system-audit.service.js';
import { linkErrorPage } from './portal.page.js';
import {
  ExchangeBodySchema,
  GenerateLinkBodySchema,
  GenerateLinkResponseSchema,
  TokenQuerySchema,
  type ExchangeBody,
  type GenerateLinkBody,
  type TokenQuery,
} from './portal.schema.js';
import { SESSION_TOKEN_PREFIX, type OpenedSession, type PortalService } from './portal.service.js';

export interface PortalRouteDeps {
  portal: PortalService;
  systemAudit: SystemAudit;
  config: Pick<Config, 'publicUrl' | 'portalSessionMinutes' | 'brandName' | 'brandLogoUrl' | 'portalFrameAncestors'>;
}

/** Where each intent's portal starts. */
const LANDING: Record<PortalIntent, string> = { audit_logs: '/portal/', log_streams: '/portal/log-streams' };
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** POST /portal/generate_link (WorkOS), opening a link (page or embed exchange), and the portal session. */
export function registerPortalRoutes(app: FastifyInstance, deps: PortalRouteDeps): void {
  const { portal, systemAudit, config } = deps;

  const recordOpened = (request: FastifyRequest, opened: OpenedSession, via: 'launch' | 'exchange'): Promise<void> =>
    systemAudit.record(
      'portal.opened',
      { id: opened.sessionId, type: 'portal_session' },
      [{ id: opened.link.organization_id, type: 'organization' }],
      { intent: opened.link.intent, link_id: opened.link.id, via, embed: opened.link.embed },
      requestContext(request),
    );

  app.post<{ Body: GenerateLinkBody }>(
    '/portal/generate_link',
    {
      schema: {
        tags: ['admin portal'],
        summary: 'Generate a single-use Admin Portal link (5 minutes) for one organization and intent (audit_logs or log_streams)',
        body: GenerateLinkBodySchema,
        response: { 201: GenerateLinkResponseSchema },
      },
      // The link is a bearer credential: the Idempotency-Key record must not keep it. A repeat (an SDK
      // retrying after a lost answer) gets a fresh link rather than {}: a WorkOS client reads `link` and
      // has no use for an answer without it, and a link is single-use and lives five minutes, so issuing
      // another (recorded as its own portal.link_created) double-creates nothing that lasts.
      config: { idempotencyOmit: ['link'], idempotencyReplay: 'rerun' },
    },
    async (request, reply) => {
      const principal = request.principal();
      const { link, row } = await portal.generateLink(principal, request.body);
      await systemAudit.recordRequest(
        request,
        'portal.link_created',
        [{ id: row.organization_id, type: 'organization' }],
        { intent: row.intent, link_id: row.id, embed: row.embed, expires_at: row.expires_at.toISOString() },
      );
      return reply.code(201).send({ link });
    },
  );

  // The link a customer's IT admin clicks: use it up, set the session cookie, go to the portal.
  app.get<{ Querystring: TokenQuery }>(
    '/portal/launch',
    { config: { auth: false }, schema: { hide: true, querystring: TokenQuerySchema } },
    async (request, reply) => {
      // Link checkers and chat previews probe with HEAD: that must not use up a single-use link.
      if (request.method === 'HEAD') {
        setPageHeaders(reply, config, false);
        return reply.type('text/html; charset=utf-8').send('');
      }
      const result = await portal.open(request.query.token ?? '');
      if (result.kind !== 'opened') {
        setPageHeaders(reply, config, false);
        const status = result.kind === 'expired' ? 410 : 401;
        return reply.code(status).type('text/html; charset=utf-8').send(linkErrorPage(config.brandName, result.kind));
      }
      const opened = result.session;
      await recordOpened(request, opened, 'launch');
      reply.setCookie(PORTAL_COOKIE, opened.token, sessionCookieOptions(config, request, config.portalSessionMinutes * 60));
      return reply.header('cache-control', 'no-store').redirect(LANDING[opened.link.intent], 302);
    },
  );

  // The embeddable viewer: no cookies inside a third-party iframe, so the page holds a bearer token instead.
  app.post<{ Body: ExchangeBody }>(
    '/portal/api/exchange',
    { config: { auth: false }, schema: { hide: true, body: ExchangeBodySchema } },
    async (request, reply) => {
      const result = await portal.open(request.body.token);
      if (result.kind === 'expired') throw new AppError('link_expired', 'This portal link has expired or was already used; ask for a new link.');
      if (result.kind === 'unknown') throw new AppError('unauthorized', 'This portal link is not valid; ask for a new link.');
      await recordOpened(request, result.session, 'exchange');
      return reply.header('cache-control', 'no-store').send({ session_token: result.session.token, expires_at: result.session.expiresAt.toISOString() });
    },
  );

  // The portal page's session probe (cookie, or the embedded viewer's bearer pst_…). An ended session is an
  // expected answer, not a failure (a 401 would log a browser console error on every expired page), so
  // it is 200 {signed_in: false} with the brand, which the "ask for a new link" page shows.
  app.get('/portal/api/session', { config: { auth: false }, schema: { hide: true } }, async (request, reply) => {
    const session = await portal.authenticate(portalTokenOf(request));
    reply.header('cache-control', 'no-store');
    if (session === undefined) return reply.send({ signed_in: false, brand: portal.brand() });
    return reply.send({ signed_in: true, ...portal.view(session) });
  });

  app.post('/portal/api/logout', { config: { session: 'portal' }, schema: { hide: true } }, async (request, reply) => {
    await portal.end(portalTokenOf(request));
    reply.clearCookie(PORTAL_COOKIE, sessionCookieOptions(config, request, 0));
    return reply.code(204).send();
  });
}

/** The portal session token of a request: the bearer pst_… if one is sent, else the cookie. */
function portalTokenOf(request: FastifyRequest): string {
  const match = BEARER.exec(request.headers.authorization ?? '');
  const bearer = match?.[1];
  if (bearer !== undefined && bearer.startsWith(SESSION_TOKEN_PREFIX)) return bearer;
  return request.cookies[PORTAL_COOKIE] ?? '';
}
