import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import { safeEqual } from '../../shared/tokens.js';

export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cookies travel with any request the browser makes, including ones another site triggers; a header the
 * page must read from the session (synchronizer token) does not. So a cookie-authenticated request that
 * changes anything must carry x-csrf-token equal to its session's token. Bearer credentials are never
 * sent by the browser on its own, so they need no token. Runs after the auth hook.
 */
export function registerCsrf(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const expected = request.cookieCsrfToken;
    if (expected === undefined || SAFE_METHODS.has(request.method)) return;
    const presented = request.headers[CSRF_HEADER];
    if (typeof presented !== 'string' || !safeEqual(presented, expected)) {
      throw new AppError('csrf_failed', `Missing or invalid CSRF token: send the session's csrf_token in the ${CSRF_HEADER} header.`);
    }
  });
}
