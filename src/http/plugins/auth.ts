import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import type { KeysService, Principal } from '../../keys/keys.service.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Resolves `Authorization: Bearer sk_…` to a principal on every route that needs one. */
export function registerAuth(app: FastifyInstance, keys: KeysService): void {
  app.decorateRequest('authenticated', undefined);
  app.decorateRequest('principal', function (this: FastifyRequest): Principal {
    if (this.authenticated === undefined) throw new AppError('unauthorized', 'Unauthorized: pass a valid API key as "Authorization: Bearer sk_…".');
    return this.authenticated;
  });
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.auth === false) return;
    const header = request.headers.authorization;
    const match = header === undefined ? null : BEARER.exec(header);
    if (match === null) {
      throw new AppError('unauthorized', 'Unauthorized: pass a valid API key as "Authorization: Bearer sk_…".');
    }
    const principal = await keys.authenticate(match[1] as string);
    // The message never echoes the presented key.
    if (principal === null) throw new AppError('unauthorized', 'Unauthorized: the API key is invalid or has been revoked.');
    request.authenticated = principal;
  });
}
