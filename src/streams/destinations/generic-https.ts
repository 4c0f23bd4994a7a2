import { createHash, createHmac } from 'node:crypto';
import { Type, type Static } from 'typebox';
import type { AuditEvent } from '../../ingest/event.schema.js';
import { StringEnum } from '../../shared/string-enum.js';
import { classifyHttpStatus, classifyNetworkError, type ConfigProblem, type DestinationType } from './destination.js';
import { jsonWithEvent } from './event-json.js';
import { renderWithinLimit } from './oversized-event.js';

// A custom header's name, in the schema and in check() (a record's key pattern alone is not enforced).
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;

export const GenericHttpsConfigSchema = Type.Object(
  {
    url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048, description: 'Used exactly as given.' }),
    format: Type.Optional(StringEnum(['json', 'ndjson'], { default: 'json' })),
    headers: Type.Optional(Type.Record(Type.String({ pattern: HEADER_NAME.source }), Type.String({ maxLength: 4096 }), { maxProperties: 20 })),
    signing_secret: Type.Optional(Type.String({ pattern: '^(whsec_)?[A-Za-z0-9+/=]{32,128}$', description: 'Standard Webhooks secret (whsec_…, base64 of 24–64 bytes).' })),
  },
  { additionalProperties: false },
);
export type GenericHttpsConfig = Static<typeof GenericHttpsConfigSchema>;

/** A request's byte budget; an event whose item alone exceeds it is sent as a summary. */
export const GENERIC_HTTPS_MAX_BYTES = 4 * 1024 * 1024;

/** WorkOS's generic HTTPS item shape, kept so receivers written for WorkOS parse Verity unchanged. */
function item(event: AuditEvent): string {
  return jsonWithEvent({ keySuffix: event.id, timestamp: event.occurred_at, source: 'verity' }, 'event', event, 'first');
}

/** The HMAC key a Standard Webhooks secret stands for: base64 after an optional `whsec_`. */
function webhookKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

/**
 * Standard Webhooks: v1 = base64(HMAC-SHA256(secret, "<id>.<timestamp>.<body>")). The message id is
 * derived from the batch's event ids, so a retried batch keeps its id and receivers can deduplicate.
 */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = webhookKey(secret);
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

// Tab, visible ASCII and Latin-1: what an HTTP client can send as a header value (no CR, LF or NUL).
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
// Headers that frame the request itself: set by the HTTP client, and refused by it when given.
const FRAMING_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer']);

/**
 * Custom headers an HTTP client would refuse at every delivery (the stream would retry forever): refused
 * when the stream is saved instead. Messages never quote a value (a secret), nor a name that is not a valid
 * one: headers are stored encrypted and never shown, and text pasted into the name (a token after a stray
 * colon) must not come back in an error, to this caller or to the next editor. The header is named by its
 * place in the list instead.
 */
function headerProblems(headers: Record<string, string>): ConfigProblem[] {
  return Object.entries(headers).flatMap(([name, value], index): ConfigProblem[] => {
    if (!HEADER_NAME.test(name)) return [{ field: 'headers', message: `header ${index + 1} of ${Object.keys(headers).length} does not have a valid name (letters, digits and hyphens)` }];
    if (FRAMING_HEADERS.has(name.toLowerCase())) return [{ field: 'headers', message: `${name} is set by Verity's HTTP client and cannot be given` }];
    if (!HEADER_VALUE.test(value)) return [{ field: 'headers', message: `the value of ${name} holds a line break or a character a header cannot carry` }];
    return [];
  });
}

export const genericHttps: DestinationType<GenericHttpsConfig> = {
  type: 'GenericHttps',
  label: 'HTTPS endpoint',
  configSchema: GenericHttpsConfigSchema,
  secretFields: ['headers', 'signing_secret'],
  secretsBoundTo: ['url'],
  check(config) {
    const problems = headerProblems(config.headers ?? {});
    if (config.signing_secret === undefined) return problems;
    const bytes = webhookKey(config.signing_secret).length;
    // Standard Webhooks secrets are 24 to 64 bytes (PROTOCOLS §5); receivers' libraries refuse others.
    if (bytes < 24 || bytes > 64) problems.push({ field: 'signing_secret', message: `must decode (base64, after an optional whsec_ prefix) to 24–64 bytes; it decodes to ${bytes}` });
    return problems;
  },
  create(config, { http }) {
    const ndjson = config.format === 'ndjson';
    return {
      limits: { maxEvents: 1000, maxBytes: GENERIC_HTTPS_MAX_BYTES },
      async deliver(events) {
        // Receivers cap request bodies; an event over the budget on its own would be refused (413) forever.
        const items = events.map((event) => renderWithinLimit(event, GENERIC_HTTPS_MAX_BYTES, item));
        const body = ndjson ? `${items.join('\n')}\n` : `[${items.join(',')}]`;
        // Header names are case-insensitive: lower-case the customer's so ours (content type, signature)
        // replace theirs instead of being sent alongside them.
        const custom = Object.fromEntries(Object.entries(config.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
        const headers: Record<string, string> = {
          ...custom,
          'content-type': ndjson ? 'application/x-ndjson' : 'application/json',
          'user-agent': 'Verity-Log-Stream/1',
        };
        if (config.signing_secret !== undefined) {
          const id = `msg_${createHash('sha256').update(events.map((e) => e.id).join(',')).digest('hex').slice(0, 26)}`;
          const timestamp = Math.floor(Date.now() / 1000);
          headers['webhook-id'] = id;
          headers['webhook-timestamp'] = String(timestamp);
          headers['webhook-signature'] = signWebhook(config.signing_secret, id, timestamp, body);
        }
        try {
          const response = await http.send({ url: config.url, headers, body });
          // Standard Webhooks: 410 Gone means the receiver wants no more deliveries.
          if (response.status === 410) return { outcome: 'invalid', status: 410, error: 'HTTP 410: the endpoint asked for deliveries to stop' };
          return classifyHttpStatus(response.status, response.text, response.headers.get('retry-after'));
        } catch (error) {
          return classifyNetworkError(error);
        }
      },
    };
  },
};
