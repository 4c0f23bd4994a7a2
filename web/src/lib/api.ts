/**
 * The one way the UI talks to the server: same-origin fetch with the session cookie (and the CSRF header on
 * writes), or a bearer portal session token for the embeddable viewer, which lives in third-party iframes.
 */

export interface FieldError {
  field?: string;
  code?: string;
  message?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The first message the API gave for a field (`config.bucket`, `name`, …). */
  fieldMessage(field: string): string | undefined {
    const hit = this.errors.find((error) => error.field === field);
    return hit === undefined ? undefined : (hit.message ?? hit.code ?? 'is invalid');
  }
}

type Auth = { kind: 'cookie' } | { kind: 'bearer'; token: string };

let auth: Auth = { kind: 'cookie' };
let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;
let sessionKind: 'operator' | 'portal' | null = null;

export function setBearerToken(token: string): void {
  auth = { kind: 'bearer', token };
}

/**
 * Which session cookie this app's requests mean (x-verity-session). An operator who opened a portal link
 * holds both cookies; naming the session keeps the portal acting as the customer and the dashboard as the
 * operator, whatever the Referer (which privacy settings may strip).
 */
export function setSessionKind(kind: 'operator' | 'portal'): void {
  sessionKind = kind;
}

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a request answers 401 (the session ended): the app shows its sign-in or expiry screen. */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

export type QueryValue = string | number | boolean | undefined | null | readonly string[];

export function queryString(params: Record<string, QueryValue>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const item of value as readonly string[]) search.append(key, item);
    else search.append(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

async function parseError(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: keep the status text
  }
  const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const message = typeof record.message === 'string' ? record.message : response.statusText || `HTTP ${response.status}`;
  const code = typeof record.code === 'string' ? record.code : typeof record.error === 'string' ? record.error : `http_${response.status}`;
  const errors = Array.isArray(record.errors) ? (record.errors as FieldError[]) : [];
  return new ApiError(response.status, code, message, errors);
}

export async function request<T>(method: string, path: string, body?: unknown, init: { signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth.kind === 'bearer') headers.authorization = `Bearer ${auth.token}`;
  else {
    if (sessionKind !== null) headers['x-verity-session'] = sessionKind;
    // Cookie-authenticated writes must echo the session's CSRF token (docs/ui-contract.md).
    if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: auth.kind === 'cookie' ? 'same-origin' : 'omit',
      signal: init.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', 'Could not reach the server. Check your connection and try again.');
  }
  if (!response.ok) {
    const error = await parseError(response);
    if (response.status === 401 && onUnauthorized !== null) onUnauthorized();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

export const api = {
  get: <T>(path: string, params: Record<string, QueryValue> = {}, init?: { signal?: AbortSignal }) =>
    request<T>('GET', `${path}${queryString(params)}`, undefined, init),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  del: <T = void>(path: string) => request<T>('DELETE', path),
};

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}
