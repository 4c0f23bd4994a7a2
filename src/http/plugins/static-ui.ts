import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { logoOrigin, type Config } from '../../config/config.js';
import { AppError } from '../../errors/app-error.js';

export type UiConfig = Pick<Config, 'publicUrl' | 'brandLogoUrl' | 'portalFrameAncestors'>;

/** The embeddable viewer: the one page that may be framed, by the origins the vendor allows. */
export const EMBED_PATH = '/portal/embed';

// Paths under the SPA's prefixes that belong to the server, never to the app: an unknown one is a 404,
// not the app's index page (which would answer 200 to a typo'd API call).
const SERVER_PREFIXES = ['/dashboard/api/', '/portal/api/'];
const SERVER_PATHS = new Set(['/dashboard/api', '/portal/api', '/portal/launch', '/portal/generate_link']);

// Vite names built files name-<hash>.ext: their content never changes under a name.
const HASHED = /-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/**
 * CSP for Verity's own pages. Scripts only from this origin (no inline script, no eval): an injected
 * string cannot run. Inline styles are allowed because chart and component libraries set them.
 */
export function contentSecurityPolicy(config: UiConfig, embed: boolean): string {
  const logo = config.brandLogoUrl === undefined ? '' : (logoOrigin(config.brandLogoUrl) ?? '');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data:${logo === '' ? '' : ` ${logo}`}`,
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    `frame-ancestors ${embed ? config.portalFrameAncestors : "'none'"}`,
  ].join('; ');
}

/** Headers for every HTML page Verity serves (the app and the portal's error pages). */
export function setPageHeaders(reply: FastifyReply, config: UiConfig, embed: boolean): void {
  reply.header('content-security-policy', contentSecurityPolicy(config, embed));
  reply.header('cache-control', 'no-store');
  // The API's default is no-referrer; the app's own requests carry their page (auth tells the portal's
  // requests from the dashboard's by it), and other sites still learn nothing.
  reply.header('referrer-policy', 'same-origin');
  if (!embed) {
    reply.header('x-frame-options', 'DENY');
    reply.header('cross-origin-opener-policy', 'same-origin');
  }
  if (config.publicUrl.startsWith('https:')) reply.header('strict-transport-security', 'max-age=31536000');
}

/**
 * Serves the built web app (web/dist): hashed files under /assets/*, and index.html for every page of the
 * dashboard and the portal (the app routes in the browser). Without a build the pages answer 503 saying
 * how to build it, rather than a blank page.
 */
export async function registerStaticUi(app: FastifyInstance, options: { root: string; config: UiConfig }): Promise<void> {
  const { root, config } = options;
  const indexFile = path.join(root, 'index.html');

  await app.register(async (scope) => {
    // Everything in this scope is public: the page itself holds no data, the API calls it makes are authenticated.
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, auth: false };
    });
    // The global security headers deny framing; the embed page is the exception the vendor configures.
    scope.addHook('onSend', async (request, reply, payload) => {
      if (request.routeOptions.url === EMBED_PATH) reply.removeHeader('x-frame-options');
      return payload;
    });

    await scope.register(fastifyStatic, {
      root: path.join(root, 'assets'),
      prefix: '/assets/',
      decorateReply: false,
      index: false,
      dotfiles: 'ignore',
      cacheControl: false,
      suppressWarning: true,
      setHeaders: (response, file) => {
        response.header('cache-control', HASHED.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });

    const page = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const pathname = request.url.split('?')[0] ?? '';
      if (SERVER_PATHS.has(pathname) || SERVER_PREFIXES.some((prefix) => pathname.startsWith(prefix))) {
        throw new AppError('route_not_found', `Route not found: ${request.method} ${pathname}`);
      }
      let html: string;
      try {
        html = await readFile(indexFile, 'utf8');
      } catch (error) {
        throw new AppError('unavailable', 'The web UI is not built: run `npm run build` (it builds the server and web/dist), then restart.', { cause: error });
      }
      setPageHeaders(reply, config, request.routeOptions.url === EMBED_PATH);
      return reply.type('text/html; charset=utf-8').send(html);
    };
    const schema = { hide: true };
    for (const url of ['/dashboard', '/dashboard/*', '/portal', '/portal/*', EMBED_PATH]) scope.get(url, { schema }, page);
  });
}
