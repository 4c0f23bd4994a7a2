import type { ErrorObject } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorDetail } from '../../errors/app-error.js';
import { INVALID_EVENT_MESSAGE } from '../../ingest/ingest.service.js';
import { isDatabaseUnavailable } from '../../db/unavailable.js';
import { enumMessage } from '../../shared/string-enum.js';

// What a client is told to wait when the database is unreachable: long enough not to hammer a restarting
// server, short enough for a retrying SDK to get through a failover.
const DATABASE_RETRY_AFTER_SECONDS = 5;

/** The one place that turns a thrown error into a response body. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error, request);
    if (appError.code === 'unavailable') {
      // The cause is the outage, not this request: one line without a stack (the readiness probe says the rest).
      request.log.warn({ error: error.message }, 'request failed: the database is unavailable');
    } else if (appError.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    }
    return sendError(reply, appError);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new AppError('route_not_found', `Route not found: ${request.method} ${request.url.split('?')[0] ?? ''}`)),
  );
}

/**
 * The router's bound on one path parameter, decoded, in UTF-16 units: a 256-character name (the most an
 * action name or external id may have) takes up to 512 when every character is outside the BMP.
 */
export const MAX_PATH_PARAMETER_LENGTH = 1024;

/** Errors the router raises before any route runs (an undecodable or overlong path segment), in Verity's shape. */
export function frameworkError(error: FastifyError): AppError {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return new AppError('bad_request', 'The URL holds a path segment that is not valid percent-encoded UTF-8.', { cause: error });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('bad_request', `The URL holds a path segment longer than ${MAX_PATH_PARAMETER_LENGTH} characters; no id or name is that long.`, { cause: error });
    default:
      return new AppError('bad_request', error.message, { cause: error });
  }
}

export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  return reply.code(error.status).type('application/json; charset=utf-8').send(error.toBody());
}

function toAppError(error: FastifyError, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  if (error.validation) return validationError(error.validation as ErrorObject[], request);
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', `The request body is too large (limit ${request.routeOptions.bodyLimit ?? 0} bytes).`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'Send the request body as JSON with "Content-Type: application/json".');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('bad_request', 'The Content-Length header does not match the body.');
    default:
      break;
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new AppError('bad_request', error.message);
  }
  if (isDatabaseUnavailable(error)) {
    return new AppError('unavailable', 'The database is not reachable. Retry shortly.', { cause: error, retryAfter: DATABASE_RETRY_AFTER_SECONDS });
  }
  return new AppError('internal_error', `Internal server error (request ${request.id}).`, { cause: error });
}

function pathToField(instancePath: string, missing?: unknown): string {
  const parts = instancePath.split('/').filter((part) => part !== '');
  if (typeof missing === 'string') parts.push(missing);
  return parts.join('.');
}

function detail(error: ErrorObject, stripPrefix = ''): ErrorDetail {
  const instancePath = error.instancePath.startsWith(stripPrefix) ? error.instancePath.slice(stripPrefix.length) : error.instancePath;
  return { instancePath, keyword: error.keyword, message: error.message ?? 'is invalid', params: error.params };
}

/**
 * A value that fails a union (`anyOf`: a string or null, one of several literals) fails every branch,
 * and ajv reports each: "must NOT have more than 1000 characters", "must be null", "must match a schema in
 * anyOf" for one field. Keep what says what is wrong — the errors that are not about the value's type or
 * a literal — or, when only those are left, one error naming what is allowed.
 */
function collapseUnions(errors: readonly ErrorObject[]): ErrorObject[] {
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  if (unionPaths.size === 0) return [...errors];
  const kept: ErrorObject[] = [];
  for (const path of new Set(errors.map((e) => e.instancePath))) {
    const here = errors.filter((e) => e.instancePath === path);
    if (!unionPaths.has(path)) {
      kept.push(...here);
      continue;
    }
    const specific = here.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'type' && e.keyword !== 'const');
    if (specific.length > 0) {
      kept.push(...specific);
      continue;
    }
    // An object-or-null whose member is wrong: the member's error says it ("metadata.k must NOT have more
    // than 500 characters"); "metadata must be null" beside it would only mislead.
    if (errors.some((e) => e.instancePath.startsWith(`${path}/`))) continue;
    const union = here.find((e) => e.keyword === 'anyOf') as ErrorObject;
    const allowed = here.filter((e) => e.keyword === 'const').map((e) => String(e.params.allowedValue));
    const types = here.filter((e) => e.keyword === 'type').map((e) => String(e.params.type));
    const message = allowed.length > 0 ? enumMessage(allowed) : types.length > 0 ? `must be ${[...new Set(types)].join(' or ')}` : (union.message ?? 'is invalid');
    kept.push({ ...union, message });
  }
  return kept;
}

/** Maps schema-validation failures to the WorkOS bodies: 422 for missing fields, 400 for event shape. */
function validationError(errors: ErrorObject[], request: FastifyRequest): AppError {
  const shape = request.routeOptions.config.validationShape ?? 'default';
  const required = errors.filter((e) => e.keyword === 'required');
  if (shape === 'batch') {
    const byIndex = new Map<number, ErrorDetail[]>();
    const other: ErrorDetail[] = [];
    for (const error of errors) {
      const match = /^\/events\/(\d+)(\/.*)?$/.exec(error.instancePath);
      if (match === null) other.push(detail(error));
      else {
        const index = Number(match[1]);
        byIndex.set(index, [...(byIndex.get(index) ?? []), detail(error, `/events/${index}`)]);
      }
    }
    const indexed = [...byIndex.entries()].sort(([a], [b]) => a - b).map(([index, list]) => ({ index, errors: list }));
    return new AppError('invalid_audit_log_event', 'Invalid Audit Log events; none were stored.', { errors: [...other, ...indexed] });
  }
  if (required.length > 0 && shape !== 'default') {
    return new AppError('validation_failed', 'Validation failed.', {
      errors: required.map((e) => ({ code: 'required', field: pathToField(e.instancePath, e.params.missingProperty) })),
    });
  }
  if (shape === 'event') {
    return new AppError('invalid_audit_log_event', INVALID_EVENT_MESSAGE, { errors: errors.map((e) => detail(e, '/event')) });
  }
  return new AppError('validation_failed', 'Validation failed.', {
    errors: collapseUnions(errors).map((e) => ({
      code: e.keyword === 'required' ? 'required' : 'invalid',
      field: pathToField(e.instancePath, e.params.missingProperty),
      message: e.keyword === 'enum' ? enumMessage(e.params.allowedValues) : (e.message ?? 'is invalid'),
    })),
  });
}
