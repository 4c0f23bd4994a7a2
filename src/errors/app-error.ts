/**
 * The one error type of Verity. Every failure that reaches a client is an AppError with a code from this
 * closed table; the HTTP error handler renders it. `showCode: false` keeps bodies identical to the WorkOS
 * wire contract where WorkOS answers without a `code` (404s and 422 "Validation failed.").
 */
export const ERROR_CODES = {
  bad_request: { status: 400, showCode: true },
  invalid_json: { status: 400, showCode: true },
  invalid_audit_log_event: { status: 400, showCode: true },
  invalid_audit_log_schema_version: { status: 400, showCode: true },
  invalid_audit_log_export_range_date: { status: 400, showCode: true },
  invalid_query: { status: 400, showCode: true },
  unauthorized: { status: 401, showCode: true },
  invalid_credentials: { status: 401, showCode: true },
  forbidden: { status: 403, showCode: true },
  csrf_failed: { status: 403, showCode: true },
  not_found: { status: 404, showCode: false },
  route_not_found: { status: 404, showCode: true },
  conflict: { status: 409, showCode: true },
  idempotency_key_reused: { status: 409, showCode: true },
  idempotency_key_in_progress: { status: 409, showCode: true },
  legal_hold_active: { status: 409, showCode: true },
  link_expired: { status: 410, showCode: true },
  payload_too_large: { status: 413, showCode: true },
  unsupported_media_type: { status: 415, showCode: true },
  validation_failed: { status: 422, showCode: false },
  invalid_schema: { status: 422, showCode: true },
  rate_limit_exceeded: { status: 429, showCode: true },
  internal_error: { status: 500, showCode: true },
  unavailable: { status: 503, showCode: true },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A field-level or schema-level detail; its shape follows the WorkOS body for each code. */
export type ErrorDetail = Record<string, unknown>;

export interface AppErrorOptions {
  errors?: readonly ErrorDetail[];
  cause?: unknown;
  /** Seconds; rendered as the Retry-After header. */
  retryAfter?: number;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: readonly ErrorDetail[] | undefined;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.errors = options.errors;
    this.retryAfter = options.retryAfter;
  }

  /** The JSON body a client sees. Never includes the cause (it may hold internals). */
  toBody(): Record<string, unknown> {
    const body: Record<string, unknown> = { message: this.message };
    if (ERROR_CODES[this.code].showCode) body.code = this.code;
    if (this.errors !== undefined) body.errors = this.errors;
    return body;
  }
}

export function notFound(entity: string, id: string): AppError {
  return new AppError('not_found', `${entity} not found: '${id}'.`);
}

/** Turns anything thrown into an Error, keeping the original as `cause`. */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value), { cause: value });
}
