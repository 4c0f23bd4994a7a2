import type { TSchema } from 'typebox';
import type { AuditEvent } from '../../ingest/event.schema.js';
import type { HttpClient } from '../net/http.js';
import { errorCode } from '../../shared/error-code.js';

export const STREAM_TYPES = ['Datadog', 'Splunk', 'S3', 'GoogleCloudStorage', 'AzureSentinel', 'GenericHttps', 'Syslog'] as const;
export type StreamType = (typeof STREAM_TYPES)[number];

/** What one delivery attempt achieved; the engine turns it into cursor moves, states and retries. */
export type DeliveryResult =
  /** Every event was accepted. */
  | { outcome: 'delivered'; status?: number | undefined; detail?: string | undefined }
  /** Transient (network, 408, 429, 5xx): retry the same events with backoff (or after retryAfterMs). */
  | { outcome: 'retry'; status?: number | undefined; error: string; retryAfterMs?: number | undefined }
  /** Credentials or configuration rejected (401/403, bad bucket, …): stop until the config changes. */
  | { outcome: 'invalid'; status?: number | undefined; error: string }
  /** The request was too large (413): the engine halves the batch and tries again at once. */
  | { outcome: 'too_large'; status?: number | undefined; error: string }
  /** The first `accepted` events were taken, the rest were not (Splunk code 6): resend from there. */
  | { outcome: 'partial'; accepted: number; status?: number | undefined; error: string };

export interface DestinationLimits {
  /** Most events in one request. */
  maxEvents: number;
  /** Most bytes of serialised events in one request (before compression). */
  maxBytes: number;
  /** Bytes the payload adds around each event (an envelope, a separator), counted against maxBytes. */
  eventOverheadBytes?: number;
}

export interface DeliveryContext {
  /** True for POST /log_streams/:id/test: the single event is a marked test event. */
  test: boolean;
}

/** A configured destination: turns a batch of events into one request to the customer's SIEM. */
export interface Destination {
  readonly limits: DestinationLimits;
  deliver(events: readonly AuditEvent[], context: DeliveryContext): Promise<DeliveryResult>;
  close?(): Promise<void>;
}

export interface DestinationDeps {
  http: HttpClient;
  /** VERITY_ALLOW_PRIVATE_DESTINATIONS: raw sockets (syslog) and SDK agents apply the same guard. */
  allowPrivate: boolean;
}

export interface ConfigProblem {
  field: string;
  message: string;
}

/**
 * One destination type: its config schema (validated with field-level errors), which fields are secret
 * (encrypted at rest, never returned), and the factory. `Config` is the merged plain + secret config.
 */
export interface DestinationType<Config = Record<string, unknown>> {
  type: StreamType;
  /** Shown in the portal's destination picker. */
  label: string;
  configSchema: TSchema;
  secretFields: readonly string[];
  /**
   * Fields that say where the secrets are sent (a URL, an endpoint). A change to one of them must come with
   * the secrets again: a stored secret is never sent to a destination other than the one it was given for.
   */
  secretsBoundTo: readonly string[];
  /**
   * Checks a schema cannot express, on a config the schema accepted: each problem names its field (without
   * `config.`) and never quotes a value, which may be a secret.
   */
  check?(config: Config): ConfigProblem[];
  create(config: Config, deps: DestinationDeps): Destination;
}

/** Classifies an HTTP status the way every HTTP destination does, unless it knows better. */
export function classifyHttpStatus(status: number, body: string, retryAfter: string | null): DeliveryResult {
  if (status >= 200 && status < 300) return { outcome: 'delivered', status };
  const error = `HTTP ${status}${body ? `: ${body.slice(0, 500)}` : ''}`;
  if (status === 413) return { outcome: 'too_large', status, error };
  if (status === 401 || status === 403 || status === 404) return { outcome: 'invalid', status, error };
  if (status === 408 || status === 429 || status >= 500) return { outcome: 'retry', status, error, retryAfterMs: parseRetryAfter(retryAfter) };
  // Redirects are not followed (a redirect could lead a delivery, and its credentials, to another host).
  if (status >= 300 && status < 400) {
    return { outcome: 'invalid', status, error: `HTTP ${status}: the destination redirects, and deliveries do not follow redirects: configure the URL it redirects to` };
  }
  // Any other 4xx means the request itself is wrong for this destination: retrying cannot fix it.
  return { outcome: 'invalid', status, error };
}

/** Retry-After as seconds or an HTTP date, in milliseconds; undefined when absent or unparseable. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Node's codes for a certificate that does not verify: a configuration problem, never fixed by retrying. */
export const CERTIFICATE_ERRORS = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_REJECTED',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Network-level failures (refused, reset, timeout, DNS) are transient; a forbidden address, and a TLS
 * certificate that does not verify (wrong host name, self-signed, expired), are configuration problems:
 * retrying every 30 s for three days would only hide them behind "Retrying".
 */
export function classifyNetworkError(error: unknown): DeliveryResult {
  const err = error instanceof Error ? error : new Error(String(error));
  const cause = (err as Error & { cause?: unknown }).cause;
  const root = cause instanceof Error ? cause : err;
  const code = errorCode(root);
  if (code === 'EFORBIDDENADDRESS') return { outcome: 'invalid', error: root.message };
  if (code !== undefined && CERTIFICATE_ERRORS.has(code)) {
    return { outcome: 'invalid', error: `TLS certificate verification failed: ${root.message} (${code}); check the URL's host name and the destination's certificate` };
  }
  return { outcome: 'retry', error: `${root.name === 'Error' ? '' : `${root.name}: `}${root.message}` };
}
