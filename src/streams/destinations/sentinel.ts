import { randomUUID } from 'node:crypto';
import { Type, type Static } from 'typebox';
import type { AuditEvent } from '../../ingest/event.schema.js';
import type { HttpClient } from '../net/http.js';
import { classifyHttpStatus, classifyNetworkError, parseRetryAfter, type DeliveryResult, type Destination, type DestinationType } from './destination.js';
import { summarizeOversizedEvent } from './oversized-event.js';
import { redactResult, secretStrings } from './redact-secrets.js';

const Guid = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const AzureSentinelConfigSchema = Type.Object(
  {
    tenant_id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$', description: 'Directory (tenant) id, or its domain name.' }),
    client_id: Type.String({ pattern: Guid, description: 'Application (client) id of the app registration.' }),
    client_secret: Type.String({ minLength: 1, maxLength: 1024, description: 'Client secret value (not its id).' }),
    ingestion_endpoint: Type.String({
      format: 'uri',
      pattern: '^https?://',
      maxLength: 2048,
      description: 'DCE or DCR logs ingestion base URL; /dataCollectionRules/<dcr>/streams/<stream>?api-version=2023-01-01 is appended.',
    }),
    dcr_immutable_id: Type.String({ pattern: '^dcr-[0-9a-fA-F]{32}$', description: 'The data collection rule immutable id (dcr-…).' }),
    stream_name: Type.String({ pattern: '^(Custom|Microsoft)-[A-Za-z0-9_]{1,200}$', description: 'Stream declared in the DCR, e.g. Custom-VerityAudit_CL.' }),
    authority_url: Type.Optional(
      Type.String({
        format: 'uri',
        pattern: '^https?://',
        maxLength: 2048,
        default: 'https://login.microsoftonline.com',
        description: 'Microsoft Entra authority; /<tenant_id>/oauth2/v2.0/token is appended. Sovereign clouds: login.microsoftonline.us, login.chinacloudapi.cn.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type AzureSentinelConfig = Static<typeof AzureSentinelConfigSchema>;

export const SENTINEL_API_VERSION = '2023-01-01';
/**
 * Azure's 1 MB per call applies to "both compressed and uncompressed data"; Microsoft's own SDK caps the
 * uncompressed JSON at 1,000,000 bytes, which also bounds the gzip (never larger than its input plus a few
 * hundred bytes) below 1 MiB.
 */
export const SENTINEL_MAX_BODY_BYTES = 1_000_000;
/** Azure truncates field values over 64 KB; a cut `data` would be broken JSON, so larger events are summarized. */
export const SENTINEL_MAX_DATA_BYTES = 64_000;
const DEFAULT_AUTHORITY = 'https://login.microsoftonline.com';

/** Sovereign clouds' authorities and their Azure Monitor audiences; anything else is the public cloud. */
const SOVEREIGN_SCOPES: Readonly<Record<string, string>> = {
  'login.microsoftonline.us': 'https://monitor.azure.us//.default',
  'login.chinacloudapi.cn': 'https://monitor.azure.cn//.default',
  'login.partner.microsoftonline.cn': 'https://monitor.azure.cn//.default',
};

/** The token audience follows the cloud: Azure Government and Azure China have their own monitor hosts. */
export function monitorScope(authorityUrl: string): string {
  return SOVEREIGN_SCOPES[new URL(authorityUrl).hostname.toLowerCase()] ?? 'https://monitor.azure.com//.default';
}

/** WorkOS's documented Sentinel row, so KQL written for WorkOS streams keeps working. */
export function sentinelRecord(event: AuditEvent): Record<string, unknown> {
  const time = Date.parse(event.occurred_at);
  let data: unknown = event;
  const size = Buffer.byteLength(JSON.stringify(event), 'utf8');
  if (size > SENTINEL_MAX_DATA_BYTES) {
    const summary = summarizeOversizedEvent(
      event,
      size,
      SENTINEL_MAX_DATA_BYTES,
      (s) => Buffer.byteLength(JSON.stringify({ ...s.event, verity_truncated: s.note }), 'utf8') <= SENTINEL_MAX_DATA_BYTES,
    );
    data = { ...summary.event, verity_truncated: summary.note };
  }
  return {
    TimeGenerated: Number.isNaN(time) ? event.occurred_at : new Date(time).toISOString(),
    id: event.id,
    event_type: event.action,
    organization_id: event.organization_id,
    data,
  };
}

/** Splits serialised records into JSON arrays of at most SENTINEL_MAX_BODY_BYTES. */
export function chunkRecords(serialised: readonly string[], maxBytes = SENTINEL_MAX_BODY_BYTES): { body: string; count: number }[] {
  const chunks: { body: string; count: number }[] = [];
  let current: string[] = [];
  let bytes = 2; // the brackets
  for (const record of serialised) {
    const size = Buffer.byteLength(record, 'utf8') + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push({ body: `[${current.join(',')}]`, count: current.length });
      current = [];
      bytes = 2;
    }
    bytes += Buffer.byteLength(record, 'utf8') + (current.length > 0 ? 1 : 0);
    current.push(record);
  }
  if (current.length > 0) chunks.push({ body: `[${current.join(',')}]`, count: current.length });
  return chunks;
}

function oneLine(text: string, max = 500): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, max);
}

type TokenOutcome = { ok: true; token: string } | { ok: false; result: DeliveryResult };

/**
 * Client-credentials tokens for one destination. A token is reused until shortly before it expires (five
 * minutes, or half its life if shorter), and concurrent deliveries share one request for a new token.
 */
class TokenSource {
  private cached: { token: string; refreshAt: number } | undefined;
  private pending: Promise<TokenOutcome> | undefined;

  constructor(
    private readonly config: AzureSentinelConfig,
    private readonly http: HttpClient,
    private readonly now: () => number,
  ) {}

  get(): Promise<TokenOutcome> {
    if (this.cached !== undefined && this.now() < this.cached.refreshAt) return Promise.resolve({ ok: true, token: this.cached.token });
    this.pending ??= this.request().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** After a 401 the token is useless whatever its expiry says (revoked, rotated signing keys, clock skew). */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async request(): Promise<TokenOutcome> {
    const authority = (this.config.authority_url ?? DEFAULT_AUTHORITY).replace(/\/+$/, '');
    const url = `${authority}/${encodeURIComponent(this.config.tenant_id)}/oauth2/v2.0/token`;
    const form = new URLSearchParams({
      client_id: this.config.client_id,
      client_secret: this.config.client_secret,
      grant_type: 'client_credentials',
      scope: monitorScope(authority),
    });
    const started = this.now();
    let response;
    try {
      response = await this.http.send({ url, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() });
    } catch (error) {
      const result = classifyNetworkError(error);
      if (result.outcome === 'retry' || result.outcome === 'invalid') return { ok: false, result: { ...result, error: `token request to ${authority}: ${result.error}` } };
      return { ok: false, result };
    }
    let parsed: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {};
    try {
      const value: unknown = JSON.parse(response.text);
      if (typeof value === 'object' && value !== null) parsed = value;
    } catch {
      // Not JSON: described below from the status and raw text.
    }
    if (response.status === 200 && typeof parsed.access_token === 'string' && parsed.access_token !== '') {
      const lifetimeMs = Number(parsed.expires_in) * 1000;
      const validMs = Number.isFinite(lifetimeMs) && lifetimeMs > 0 ? lifetimeMs : 0;
      const margin = Math.min(5 * 60_000, validMs / 2);
      this.cached = { token: parsed.access_token, refreshAt: started + validMs - margin };
      return { ok: true, token: parsed.access_token };
    }
    if (response.status === 200) {
      // Never quote a 200 body: it may hold a token that failed to parse (e.g. cut by the HTTP client's cap).
      return { ok: false, result: { outcome: 'invalid', status: 200, error: `token request to ${authority} answered HTTP 200 without a usable access_token (is authority_url right?)` } };
    }
    const code = typeof parsed.error === 'string' ? ` ${parsed.error}` : '';
    // Azure's descriptions carry the AADSTS code, the reason, and trace/correlation ids support asks for.
    const description = typeof parsed.error_description === 'string' ? parsed.error_description : response.text;
    const error = `token request to ${authority} failed (HTTP ${response.status}${code})${description ? `: ${oneLine(description)}` : ''}`;
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      return { ok: false, result: { outcome: 'retry', status: response.status, error, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) } };
    }
    // 400 invalid_client / unauthorized_client / invalid_request (unknown tenant), 401, 404: configuration.
    return { ok: false, result: { outcome: 'invalid', status: response.status, error } };
  }
}

/** Builds the destination; the clock is a parameter so token expiry can be tested without waiting. */
export function createSentinelDestination(config: AzureSentinelConfig, deps: { http: HttpClient }, now: () => number = Date.now): Destination {
  const { http } = deps;
  const tokens = new TokenSource(config, http, now);
  const base = config.ingestion_endpoint.replace(/\/+$/, '');
  const url = `${base}/dataCollectionRules/${encodeURIComponent(config.dcr_immutable_id)}/streams/${encodeURIComponent(config.stream_name)}?api-version=${SENTINEL_API_VERSION}`;
  // Tokens handed out recently (a few suffice: one is replaced per hour) so error texts can be scrubbed of them.
  const issued: string[] = [];

  /** No error text may carry the client secret or a bearer token, whatever a server echoes back. */
  function scrub(result: DeliveryResult): DeliveryResult {
    return redactResult(result, [...secretStrings(config.client_secret), ...issued]);
  }

  async function post(body: string, retried: boolean): Promise<DeliveryResult> {
    const token = await tokens.get();
    if (!token.ok) return token.result;
    if (!issued.includes(token.token)) {
      issued.push(token.token);
      if (issued.length > 4) issued.shift();
    }
    let response;
    try {
      response = await http.send({
        url,
        headers: {
          authorization: `Bearer ${token.token}`,
          'content-type': 'application/json',
          'x-ms-client-request-id': randomUUID(),
          'user-agent': 'Verity-Log-Stream/1',
        },
        body,
        gzip: true,
      });
    } catch (error) {
      return classifyNetworkError(error);
    }
    if (response.status === 401) {
      tokens.invalidate(token.token);
      if (!retried) return post(body, true);
      return { outcome: 'invalid', status: 401, error: `Logs Ingestion API rejected a freshly issued token (HTTP 401): ${oneLine(response.text)}` };
    }
    const result = classifyHttpStatus(response.status, oneLine(response.text), response.headers.get('retry-after'));
    if (response.status === 403 && result.outcome === 'invalid') {
      return { ...result, error: `${result.error} (the app registration needs the "Monitoring Metrics Publisher" role on the data collection rule)` };
    }
    if (response.status === 404 && result.outcome === 'invalid') {
      return { ...result, error: `${result.error} (check ingestion_endpoint and dcr_immutable_id)` };
    }
    return result;
  }

  return {
    // ~200 bytes of row around each event: 800 kB of events usually makes one call under the 1 MB cap.
    limits: { maxEvents: 1000, maxBytes: 800_000 },
    async deliver(events) {
      const chunks = chunkRecords(events.map((event) => JSON.stringify(sentinelRecord(event))));
      let accepted = 0;
      for (const chunk of chunks) {
        const result = scrub(await post(chunk.body, false));
        if (result.outcome !== 'delivered') {
          // Earlier calls were accepted: report them so the engine resends only the rest, not duplicates.
          if (accepted > 0) return { outcome: 'partial', accepted, status: result.status, error: result.error };
          return result;
        }
        accepted += chunk.count;
      }
      return { outcome: 'delivered', status: 204, detail: chunks.length > 1 ? `${chunks.length} calls` : undefined };
    },
  };
}

export const azureSentinel: DestinationType<AzureSentinelConfig> = {
  type: 'AzureSentinel',
  label: 'Microsoft Sentinel',
  configSchema: AzureSentinelConfigSchema,
  secretFields: ['client_secret'],
  secretsBoundTo: ['ingestion_endpoint', 'authority_url'],
  create: (config, deps) => createSentinelDestination(config, deps),
};
