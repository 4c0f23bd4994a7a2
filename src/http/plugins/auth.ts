import cookie, { type CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.js';
import { operatorPrincipal, type OperatorsService } from '../../dashboard/dashboard.service.js';
import { AppError } from '../../errors/app-error.js';
import type { KeysService, Principal } from '../../keys/keys.service.js';
import { SESSION_TOKEN_PREFIX as PORTAL_TOKEN_PREFIX, portalPrincipal, type PortalService } from '../../portal/portal.service.js';
import { CredentialGuard } from './credential-guard.js';

/** An `Authorization: Bearer …` header: any case, any spacing (also read by GET /metrics). */
export const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The operator's dashboard session. */
export const OPERATOR_COOKIE = 'verity_session';
/** An Admin Portal session opened from a link. */
export const PORTAL_COOKIE = 'verity_portal';
/**
 * Which session cookie a request means when the browser holds both (an operator who opened a portal link):
 * "portal" or "operator". Without it, the page the request came from decides (Referer under /portal →
 * the portal session), and failing that the operator session.
 */
export const SESSION_SELECTOR_HEADER = 'x-verity-session';

const NO_CREDENTIALS = 'Unauthorized: pass a valid API key as "Authorization: Bearer sk_…".';

export interface AuthDeps {
  keys: KeysService;
  operators: OperatorsService;
  portal: PortalService;
  config: Pick<Config, 'publicUrl'>;
  /** Counts failed credentials per client address; past its limit, 429 before any lookup. */
  guard?: CredentialGuard;
}

interface Resolved {
  principal: Principal;
  /** Only for cookie sessions: what unsafe requests must echo in x-csrf-token. */
  csrfToken?: string;
}

/**
 * Cookie attributes for both sessions: script-proof, not sent on cross-site subrequests, and TLS-only when
 * Verity is reached over https: its public URL says so, or this request came over TLS (directly, or
 * through a proxy trusted with VERITY_TRUST_PROXY, which is what makes request.protocol believe
 * X-Forwarded-Proto). A Secure cookie is never sent back over plain http, so http deployments get none.
 */
export function sessionCookieOptions(config: Pick<Config, 'publicUrl'>, request: Pick<FastifyRequest, 'protocol'>, maxAgeSeconds: number): CookieSerializeOptions {
  const secure = config.publicUrl.startsWith('https:') || request.protocol === 'https';
  return { httpOnly: true, sameSite: 'lax', path: '/', secure, maxAge: maxAgeSeconds };
}

/**
 * Resolves every request that needs one to a principal: `Authorization: Bearer sk_…` (API key) or
 * `Bearer pst_…` (portal session, for the embedded viewer), else the `verity_session` (operator) or
 * `verity_portal` cookie. Portal sessions only reach routes whose config lists their intent.
 */
export async function registerAuth(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  await app.register(cookie, { hook: 'onRequest' });
  app.decorateRequest('authenticated', undefined);
  app.decorateRequest('cookieCsrfToken', undefined);
  app.decorateRequest('principal', function (this: FastifyRequest): Principal {
    if (this.authenticated === undefined) throw new AppError('unauthorized', NO_CREDENTIALS);
    return this.authenticated;
  });

  // Every credential lookup goes through the guard: an address presenting too many unknown ones is refused.
  const guard = deps.guard ?? new CredentialGuard();

  async function fromBearer(secret: string, ip: string): Promise<Resolved> {
    if (secret.startsWith(PORTAL_TOKEN_PREFIX)) {
      const session = await guard.resolve(ip, secret, () => deps.portal.authenticate(secret));
      if (session === undefined) throw new AppError('unauthorized', 'Unauthorized: the portal session has expired or ended; open a new portal link.');
      return { principal: portalPrincipal(session) };
    }
    const principal = await guard.resolve(ip, secret, () => deps.keys.authenticate(secret));
    // The message never echoes the presented key.
    if (principal === undefined) throw new AppError('unauthorized', 'Unauthorized: the API key is invalid or has been revoked.');
    return { principal };
  }

  async function fromOperatorCookie(value: string | undefined, ip: string): Promise<Resolved | undefined> {
    if (value === undefined) return undefined;
    const session = await guard.resolve(ip, value, () => deps.operators.authenticate(value));
    return session === undefined ? undefined : { principal: operatorPrincipal(session), csrfToken: session.csrf_token };
  }

  async function fromPortalCookie(value: string | undefined, ip: string): Promise<Resolved | undefined> {
    if (value === undefined) return undefined;
    const session = await guard.resolve(ip, value, () => deps.portal.authenticate(value));
    return session === undefined ? undefined : { principal: portalPrincipal(session), csrfToken: session.csrf_token };
  }

  async function fromCookies(request: FastifyRequest): Promise<Resolved | undefined> {
    const wanted = request.routeOptions.config.session ?? selectorOf(request);
    const operatorCookie = request.cookies[OPERATOR_COOKIE];
    const portalCookie = request.cookies[PORTAL_COOKIE];
    const ip = request.ip;
    if (wanted === 'operator') return fromOperatorCookie(operatorCookie, ip);
    if (wanted === 'portal') return fromPortalCookie(portalCookie, ip);
    // Choosing between the same person's two sessions grants nothing: only an operator holds both.
    if (portalCookie !== undefined && fromPortalPage(request)) {
      return (await fromPortalCookie(portalCookie, ip)) ?? (await fromOperatorCookie(operatorCookie, ip));
    }
    return (await fromOperatorCookie(operatorCookie, ip)) ?? (await fromPortalCookie(portalCookie, ip));
  }

  async function resolve(request: FastifyRequest): Promise<Resolved | undefined> {
    const header = request.headers.authorization;
    if (header === undefined) return fromCookies(request);
    // A request that names a credential is judged by it alone; a bad one never falls back to cookies.
    const match = BEARER.exec(header);
    if (match === null) throw new AppError('unauthorized', NO_CREDENTIALS);
    return fromBearer(match[1] as string, request.ip);
  }

  // For responses that outlive their request (the live tail): whether the credential that opened it is still
  // good — a revoked key, an ended session or an expired portal link is not.
  app.decorateRequest('stillAuthenticated', async function (this: FastifyRequest): Promise<boolean> {
    if (this.authenticated === undefined) return false;
    try {
      return (await resolve(this))?.principal.id === this.authenticated.id;
    } catch (error) {
      if (error instanceof AppError && error.code === 'unauthorized') return false;
      // Refused by the failure limit (the neighbours' doing): not a verdict on this credential; keep it open.
      if (error instanceof AppError && error.code === 'rate_limit_exceeded') return true;
      throw error;
    }
  });

  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.auth === false) return;
    const resolved = await resolve(request);
    if (resolved === undefined) {
      throw new AppError('unauthorized', config.session === 'operator' ? 'Not signed in.' : NO_CREDENTIALS);
    }
    const { principal } = resolved;
    if (config.session !== undefined && principal.kind !== config.session) {
      throw new AppError('unauthorized', config.session === 'operator' ? 'Not signed in.' : 'Unauthorized: this needs an Admin Portal session.');
    }
    // Default deny: a portal session reaches only the portal's own routes and those listing its intent.
    if (principal.kind === 'portal' && config.session !== 'portal') {
      const intent = principal.portalIntent;
      if (intent === undefined || !(config.portal ?? []).includes(intent)) {
        throw new AppError('forbidden', 'This Admin Portal session cannot perform this request.');
      }
    }
    request.authenticated = principal;
    request.cookieCsrfToken = resolved.csrfToken;
  });
}

function selectorOf(request: FastifyRequest): 'operator' | 'portal' | undefined {
  const value = request.headers[SESSION_SELECTOR_HEADER];
  return value === 'operator' || value === 'portal' ? value : undefined;
}

/** Whether the request comes from one of this server's portal pages (they send a same-origin Referer). */
function fromPortalPage(request: FastifyRequest): boolean {
  const referer = request.headers.referer;
  if (referer === undefined) return false;
  try {
    const url = new URL(referer);
    return url.host === request.headers.host && (url.pathname === '/portal' || url.pathname.startsWith('/portal/'));
  } catch {
    return false;
  }
}
