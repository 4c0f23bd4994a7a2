import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/config.js';
import { AppError } from '../errors/app-error.js';
import { OPERATOR_COOKIE, sessionCookieOptions } from '../http/plugins/auth.js';
import { limiterAddress } from '../http/plugins/credential-guard.js';
import { requestContext, type SystemAudit } from '../system-audit/system-audit.service.js';
import { LoginBodySchema, SetupBodySchema, type LoginBody, type SetupBody } from './dashboard.schema.js';
import type { OperatorsService, SignedIn } from './dashboard.service.js';
import type { AddressLimiter } from '../shared/address-limiter.js';

export interface DashboardRouteDeps {
  operators: OperatorsService;
  systemAudit: SystemAudit;
  limiter: AddressLimiter;
  config: Pick<Config, 'publicUrl' | 'sessionHours'>;
}

/**
 * The operator dashboard's own API (docs/ui-contract.md): sign-in, setup, session and sign-out. Everything
 * else the dashboard does goes through the regular API with the session cookie.
 */
export function registerDashboardRoutes(app: FastifyInstance, deps: DashboardRouteDeps): void {
  const { operators, systemAudit } = deps;
  // Browser-only endpoints: not part of the public API document.
  const schema = { hide: true };

  const signIn = (reply: FastifyReply, signed: SignedIn): FastifyReply => {
    reply.setCookie(OPERATOR_COOKIE, signed.token, sessionCookieOptions(deps.config, reply.request, deps.config.sessionHours * 3600));
    return reply.header('cache-control', 'no-store').send({ operator: signed.operator, csrf_token: signed.csrfToken });
  };

  app.post<{ Body: LoginBody }>(
    '/dashboard/api/login',
    { config: { auth: false }, schema: { ...schema, body: LoginBodySchema } },
    async (request, reply) => {
      // By /64 for IPv6, as for failed credentials: otherwise a client holding a /64 rotates addresses for
      // unlimited password guesses.
      deps.limiter.take(limiterAddress(request.ip));
      let signed: SignedIn;
      try {
        signed = await operators.login(request.body.email, request.body.password);
      } catch (error) {
        if (error instanceof AppError && error.code === 'invalid_credentials') {
          await systemAudit.record('operator.sign_in_failed', { id: 'anonymous', type: 'system' }, [], { email: request.body.email.slice(0, 320) }, requestContext(request));
        }
        throw error;
      }
      await systemAudit.record('operator.signed_in', operatorActor(signed), [], {}, requestContext(request));
      return signIn(reply, signed);
    },
  );

  app.post<{ Body: SetupBody }>(
    '/dashboard/api/setup',
    { config: { auth: false }, schema: { ...schema, body: SetupBodySchema } },
    async (request, reply) => {
      deps.limiter.take(limiterAddress(request.ip));
      const signed = await operators.setup(request.body.token, request.body.email, request.body.password);
      const actor = operatorActor(signed);
      await systemAudit.record('operator.created', actor, [{ id: signed.operator.id, type: 'operator', name: signed.operator.email }], { via: 'setup_link' }, requestContext(request));
      await systemAudit.record('operator.signed_in', actor, [], {}, requestContext(request));
      return signIn(reply, signed);
    },
  );

  // The page's "am I signed in?" probe. Being signed out is an expected answer here, not a failure: a 401
  // would make browsers log an error on every visit to the sign-in page. So it reads the cookie itself
  // (auth: false) and always answers 200, with signed_in saying which.
  app.get('/dashboard/api/session', { config: { auth: false }, schema }, async (request, reply) => {
    const session = await operators.authenticate(cookieOf(request));
    reply.header('cache-control', 'no-store');
    if (session === undefined) return reply.send({ signed_in: false });
    return reply.send({ signed_in: true, operator: { id: session.operator_id, email: session.email }, csrf_token: session.csrf_token });
  });

  // A POST, so it needs the CSRF token like every other cookie-authenticated write (no forced sign-outs).
  app.post('/dashboard/api/logout', { config: { session: 'operator' }, schema }, async (request, reply) => {
    const ended = await operators.logout(cookieOf(request));
    if (ended !== undefined) {
      await systemAudit.record('operator.signed_out', { id: ended.operator_id, type: 'operator', name: ended.email }, [], {}, requestContext(request));
    }
    reply.clearCookie(OPERATOR_COOKIE, sessionCookieOptions(deps.config, request, 0));
    return reply.code(204).send();
  });
}

function cookieOf(request: FastifyRequest): string {
  return request.cookies[OPERATOR_COOKIE] ?? '';
}

function operatorActor(signed: SignedIn): { id: string; type: 'operator'; name: string } {
  return { id: signed.operator.id, type: 'operator', name: signed.operator.email };
}
