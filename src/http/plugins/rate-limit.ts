import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors/app-error.js';

/** Per-API-key limit; answers 429 with Retry-After and the WorkOS body. 0 turns the limiter off. */
export async function registerRateLimit(app: FastifyInstance, perMinute: number): Promise<void> {
  if (perMinute === 0) return;
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    // After authentication, so the bucket is the key, not the client's address.
    hook: 'preHandler',
    keyGenerator: (request) => request.authenticated?.id ?? request.ip,
    allowList: (request) => request.routeOptions.config.auth === false,
    errorResponseBuilder: (_request, context) =>
      new AppError('rate_limit_exceeded', 'Too many requests.', { retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)) }),
  });
}
