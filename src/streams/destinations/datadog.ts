import { Type, type Static } from 'typebox';
import type { AuditEvent } from '../../ingest/event.schema.js';
import { StringEnum } from '../../shared/string-enum.js';
import { classifyHttpStatus, classifyNetworkError, type DeliveryResult, type DestinationType } from './destination.js';
import { jsonWithEvent } from './event-json.js';
import { renderWithinLimit } from './oversized-event.js';

/** Datadog sites and their intake domains (PROTOCOLS §2; the sites DESIGN §6 offers). */
export const DATADOG_SITES = {
  US1: 'datadoghq.com',
  US3: 'us3.datadoghq.com',
  US5: 'us5.datadoghq.com',
  EU1: 'datadoghq.eu',
  AP1: 'ap1.datadoghq.com',
  AP2: 'ap2.datadoghq.com',
  UK1: 'uk1.datadoghq.com',
  'US1-FED': 'ddog-gov.com',
  'US2-FED': 'us2.ddog-gov.com',
} as const;
export type DatadogSite = keyof typeof DATADOG_SITES;

export const DatadogConfigSchema = Type.Object(
  {
    site: StringEnum(Object.keys(DATADOG_SITES) as DatadogSite[], { description: 'Datadog site (region) of the account.' }),
    // Printable ASCII only: the key travels in a header, and a character undici refuses there would
    // surface as a network error (retried forever) instead of a configuration error.
    api_key: Type.String({ pattern: '^[!-~]{1,256}$', description: 'Datadog API key (not an application key).' }),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "ddsource; default 'verity'." })),
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "Default 'audit-logs', as WorkOS sends." })),
    tags: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'ddtags: comma-separated key:value tags.' })),
    endpoint_url: Type.Optional(
      Type.String({
        format: 'uri',
        pattern: '^https?://',
        maxLength: 2048,
        description: 'Replaces https://http-intake.logs.<site> (proxies, tests); /api/v2/logs is appended.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DatadogConfig = Static<typeof DatadogConfigSchema>;

const MAX_EVENTS = 1000;
/** Vector's batch goal: the request body stays well under the documented 5 MB (uncompressed). */
const REQUEST_GOAL_BYTES = 4_250_000;
/** Datadog refuses larger payloads with 413; above this a multi-event request is not sent at all. */
export const DATADOG_MAX_REQUEST_BYTES = 5_000_000;
/** Datadog cuts a longer log and still answers 2xx (PROTOCOLS §2): the event JSON would arrive broken. */
export const DATADOG_MAX_ITEM_BYTES = 1_000_000;

/**
 * Datadog accepts log timestamps up to 18 hours old (PROTOCOLS §2) and drops older ones while still
 * answering 202. A backfill, a replay or a long outage would lose those events silently, so outside a
 * safe window the timestamp is left out: Datadog then stamps the intake time, and the event's own
 * occurred_at still travels inside the message. The 2-hour future bound is Datadog's documented skew
 * allowance as remembered, not confirmed in PROTOCOLS.
 */
const TIMESTAMP_MAX_AGE_MS = 17 * 3_600_000;
const TIMESTAMP_MAX_AHEAD_MS = 90 * 60_000;

/** The request URL: the site's intake host, or `endpoint_url`, followed by /api/v2/logs. */
export function datadogEndpoint(config: Pick<DatadogConfig, 'site' | 'endpoint_url'>): string {
  const url = new URL(config.endpoint_url ?? `https://http-intake.logs.${DATADOG_SITES[config.site]}`);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v2/logs`;
  return url.toString();
}

/**
 * One HTTPLogItem in WorkOS's documented shape, `{message: <event>, ddsource, service}` (these are its
 * fields but `message`, which the caller puts first), so that customers' Datadog pipelines written for
 * WorkOS keep working; tags and timestamp are additions.
 */
function itemFields(event: AuditEvent | null, config: DatadogConfig, now: number, timestampOverride?: number): Record<string, unknown> {
  const ms = timestampOverride ?? (event === null ? Number.NaN : Date.parse(event.occurred_at));
  const timely = Number.isFinite(ms) && now - ms < TIMESTAMP_MAX_AGE_MS && ms - now < TIMESTAMP_MAX_AHEAD_MS;
  return {
    ddsource: config.source ?? 'verity',
    service: config.service ?? 'audit-logs',
    ...(config.tags !== undefined ? { ddtags: config.tags } : {}),
    ...(timely ? { timestamp: ms } : {}),
  };
}

/** Bytes the item adds around each event: its other fields with a 13-digit millisecond timestamp, and the comma. */
function itemOverhead(config: DatadogConfig): number {
  const now = Date.now();
  return Buffer.byteLength(JSON.stringify({ ...itemFields(null, config, now, now), message: null })) - 'null'.length + ','.length;
}

/** Datadog's statuses (PROTOCOLS §2) with what the customer should check; the generic mapping already fits. */
function classifyDatadogStatus(status: number, body: string, retryAfter: string | null): DeliveryResult {
  const result = classifyHttpStatus(status, body, retryAfter);
  if (result.outcome !== 'invalid') return result;
  if (status === 401 || status === 403) return { ...result, error: `Datadog refused the API key: ${result.error} (check api_key and that it belongs to the configured site)` };
  if (status === 404) return { ...result, error: `Datadog logs intake not found: ${result.error} (check site or endpoint_url)` };
  return { ...result, error: `Datadog refused the payload: ${result.error}` };
}

export const datadog: DestinationType<DatadogConfig> = {
  type: 'Datadog',
  label: 'Datadog',
  configSchema: DatadogConfigSchema,
  secretFields: ['api_key'],
  secretsBoundTo: ['endpoint_url'],
  create(config, { http }) {
    const url = datadogEndpoint(config);
    const headers = {
      'dd-api-key': config.api_key,
      'content-type': 'application/json',
      'user-agent': 'Verity-Log-Stream/1',
    };
    return {
      limits: { maxEvents: MAX_EVENTS, maxBytes: REQUEST_GOAL_BYTES, eventOverheadBytes: itemOverhead(config) },
      async deliver(events) {
        if (events.length === 0) return { outcome: 'delivered', detail: 'no events' };
        const now = Date.now();
        const item = (event: AuditEvent): string => jsonWithEvent(itemFields(event, config, now), 'message', event, 'first');
        const body = `[${events.map((event) => renderWithinLimit(event, DATADOG_MAX_ITEM_BYTES, item)).join(',')}]`;
        const bytes = Buffer.byteLength(body);
        // A lone event is always sent: only Datadog can say whether it is too large.
        if (events.length > 1 && (events.length > MAX_EVENTS || bytes > DATADOG_MAX_REQUEST_BYTES)) {
          return { outcome: 'too_large', error: `${events.length} events make ${bytes} bytes, above what one Datadog request may carry (${DATADOG_MAX_REQUEST_BYTES} bytes, ${MAX_EVENTS} items)` };
        }
        try {
          const response = await http.send({ url, headers, body, gzip: true });
          return classifyDatadogStatus(response.status, response.text, response.headers.get('retry-after'));
        } catch (error) {
          return classifyNetworkError(error);
        }
      },
    };
  },
};
