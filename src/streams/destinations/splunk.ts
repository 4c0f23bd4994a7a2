import { randomUUID } from 'node:crypto';
import { Type, type Static } from 'typebox';
import type { AuditEvent } from '../../ingest/event.schema.js';
import { classifyHttpStatus, classifyNetworkError, parseRetryAfter, type DeliveryResult, type DestinationType } from './destination.js';
import { eventJson } from './event-json.js';
import { renderWithinLimit } from './oversized-event.js';

export const SplunkConfigSchema = Type.Object(
  {
    hec_url: Type.String({
      format: 'uri',
      pattern: '^https?://',
      maxLength: 2048,
      description: "The collector's scheme://host:port; /services/collector/event is appended unless the URL already ends in a collector path.",
    }),
    // Printable ASCII only: the token travels in a header, and a character undici refuses there would
    // surface as a network error (retried forever) instead of a configuration error.
    hec_token: Type.String({ pattern: '^[!-~]{1,256}$', description: 'HEC token (usually a GUID).' }),
    index: Type.Optional(Type.String({ pattern: '^[a-z0-9_][a-z0-9_-]{0,79}$', description: 'Must be one of the indexes the token may write to.' })),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    sourcetype: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type SplunkConfig = Static<typeof SplunkConfigSchema>;

/**
 * HEC has no event-count limit, only a size limit (PROTOCOLS §1): the byte budget decides, and this cap
 * only bounds a batch of tiny events.
 */
const MAX_EVENTS = 10_000;
/** PROTOCOLS §1: Splunk Cloud is reported to refuse requests over 1 MB, so requests aim at ~900 kB. */
const REQUEST_GOAL_BYTES = 900_000;
/** Above this a multi-event request is not sent at all: the engine halves the batch instead. */
export const SPLUNK_MAX_REQUEST_BYTES = 1_000_000;

/** Splunk's documented event endpoints (PROTOCOLS §1); anything else is a base URL to extend. */
const COLLECTOR_PATHS = ['/services/collector', '/services/collector/event', '/event/1.0'];

/** The raw endpoint takes text with metadata in the query string: Verity's envelopes would be indexed as text. */
const RAW_PATHS = ['/services/collector/raw', '/raw/1.0'];

/** The request URL for a configured `hec_url`: base URLs get `/services/collector/event`. */
export function hecEndpoint(hecUrl: string): string {
  const url = new URL(hecUrl);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = COLLECTOR_PATHS.some((suffix) => path.endsWith(suffix)) ? path : `${path}/services/collector/event`;
  return url.toString();
}

/**
 * Writes HEC envelopes `{time, source, sourcetype, index?, event}` around events' JSON. `time` is epoch
 * seconds with the milliseconds as a fraction; an unparseable occurred_at leaves it out so that Splunk
 * stamps the receipt time rather than refusing the event. The constant fields are serialised once: this
 * runs for every streamed event.
 */
function envelopeWriter(config: SplunkConfig): (event: AuditEvent) => string {
  const fixed = JSON.stringify({ source: config.source ?? 'verity', sourcetype: config.sourcetype ?? '_json', ...(config.index !== undefined ? { index: config.index } : {}) }).slice(1, -1);
  return (event) => {
    const ms = Date.parse(event.occurred_at);
    return `{${Number.isFinite(ms) ? `"time":${ms / 1000},` : ''}${fixed},"event":${eventJson(event)}}`;
  };
}

/** Bytes the envelope adds around each event: the widest `time` (ten digits, three decimals) and the newline. */
function envelopeOverhead(config: SplunkConfig): number {
  const widest = { id: '', occurred_at: '2286-11-20T17:46:39.999Z' } as AuditEvent;
  return Buffer.byteLength(envelopeWriter(config)(widest)) - Buffer.byteLength(eventJson(widest)) + '\n'.length;
}

interface HecReply {
  text: string | undefined;
  code: number | undefined;
  invalidEventNumber: number | undefined;
  ackId: number | undefined;
}

function integerField(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) ? number : undefined;
}

function parseHecReply(body: string): HecReply | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const reply = value as Record<string, unknown>;
  return {
    text: typeof reply.text === 'string' ? reply.text.slice(0, 300) : undefined,
    code: integerField(reply.code),
    invalidEventNumber: integerField(reply['invalid-event-number']),
    ackId: integerField(reply.ackId),
  };
}

/** What to tell the customer for HEC codes whose fix is on their side (PROTOCOLS §1 code table). */
const HINTS: Readonly<Record<number, string>> = {
  1: 'the HEC token is disabled in Splunk',
  2: 'check hec_token',
  3: 'check hec_token',
  4: 'check hec_token',
  7: "check index: it must exist and be one of the token's allowed indexes",
  10: 'the collector requires a request channel',
  11: 'the collector refused the request channel',
};

/** Codes that report Splunk's own trouble, whatever HTTP status carries them: 8 internal, 9 busy, 18 unhealthy. */
const TRANSIENT_CODES = new Set([8, 9, 18]);

/**
 * Turns an HEC answer into a delivery result. The JSON `code` decides where Splunk gives one; a body
 * that is not HEC JSON (a proxy, a load balancer) falls back to the plain HTTP status.
 */
export function classifyHecResponse(status: number, body: string, retryAfter: string | null, events: readonly AuditEvent[]): DeliveryResult {
  const reply = parseHecReply(body);
  if (status >= 200 && status < 300) {
    return { outcome: 'delivered', status, detail: reply?.ackId !== undefined ? `ackId ${reply.ackId}` : undefined };
  }
  if (reply?.code === undefined) return classifyHttpStatus(status, body, retryAfter);
  const { code, invalidEventNumber } = reply;
  const hint = HINTS[code];
  const error = `Splunk HEC code ${code} (HTTP ${status}): ${reply.text ?? 'no text'}${hint !== undefined ? ` (${hint})` : ''}`;
  if (code === 6) {
    const rejected = invalidEventNumber !== undefined ? events[invalidEventNumber] : undefined;
    if (invalidEventNumber === undefined || rejected === undefined) return { outcome: 'invalid', status, error };
    const detail = `${error}; event ${invalidEventNumber} of the batch (${rejected.id}) was refused`;
    // Splunk indexed the events before the refused one (PROTOCOLS §1, unconfirmed officially). When the
    // refused one is the first, resending cannot help: the event itself is unacceptable to this collector.
    if (invalidEventNumber === 0) return { outcome: 'invalid', status, error: detail };
    return { outcome: 'partial', accepted: invalidEventNumber, status, error: `${detail}, the ${invalidEventNumber} before it were indexed` };
  }
  if (status === 413) return { outcome: 'too_large', status, error };
  if (TRANSIENT_CODES.has(code) || status === 408 || status === 429 || status >= 500) {
    return { outcome: 'retry', status, error, retryAfterMs: parseRetryAfter(retryAfter) };
  }
  return { outcome: 'invalid', status, error };
}

export const splunk: DestinationType<SplunkConfig> = {
  type: 'Splunk',
  label: 'Splunk (HTTP Event Collector)',
  configSchema: SplunkConfigSchema,
  secretFields: ['hec_token'],
  secretsBoundTo: ['hec_url'],
  check(config) {
    const path = new URL(config.hec_url).pathname.replace(/\/+$/, '');
    if (!RAW_PATHS.some((suffix) => path.endsWith(suffix))) return [];
    return [
      {
        field: 'hec_url',
        message:
          'must not be the raw endpoint: Verity sends JSON envelopes to the event endpoint (/services/collector/event); give the collector\'s base URL (scheme://host:port) or its event endpoint',
      },
    ];
  },
  create(config, { http }) {
    const url = hecEndpoint(config.hec_url);
    // One channel per destination instance, as Vector does: collectors with indexer acknowledgement
    // refuse requests without one, and a stable channel keeps Splunk's per-channel bookkeeping small.
    const channel = randomUUID();
    const headers = {
      authorization: `Splunk ${config.hec_token}`,
      'x-splunk-request-channel': channel,
      'content-type': 'application/json',
      'user-agent': 'Verity-Log-Stream/1',
    };
    const envelope = envelopeWriter(config);
    return {
      limits: { maxEvents: MAX_EVENTS, maxBytes: REQUEST_GOAL_BYTES, eventOverheadBytes: envelopeOverhead(config) },
      async deliver(events) {
        // HEC answers an empty body with code 5; there is nothing to deliver.
        if (events.length === 0) return { outcome: 'delivered', detail: 'no events' };
        // Concatenated envelopes, not an array; the newline is optional and only helps whoever reads a capture.
        // An envelope over the request goal alone would be refused (413) forever: it goes as a summary.
        const body = Buffer.from(events.map((event) => renderWithinLimit(event, REQUEST_GOAL_BYTES, envelope)).join('\n'));
        const bytes = body.length;
        // A lone event is always sent: only the collector can say whether it is too large.
        if (events.length > 1 && (events.length > MAX_EVENTS || bytes > SPLUNK_MAX_REQUEST_BYTES)) {
          return { outcome: 'too_large', error: `${events.length} events make ${bytes} bytes, above what one HEC request may carry (${SPLUNK_MAX_REQUEST_BYTES} bytes, ${MAX_EVENTS} events)` };
        }
        try {
          const response = await http.send({ url, headers, body });
          return classifyHecResponse(response.status, response.text, response.headers.get('retry-after'), events);
        } catch (error) {
          return classifyNetworkError(error);
        }
      },
    };
  },
};
