/** Shapes of the Verity HTTP API as the UI reads them (see openapi.json and the route files). */

export interface List<T> {
  object: 'list';
  data: T[];
  list_metadata: { before: string | null; after: string | null };
}

export type Metadata = Record<string, string | number | boolean>;

export interface AuditEvent {
  object: 'audit_log_event';
  id: string;
  organization_id: string;
  action: string;
  occurred_at: string;
  version: number;
  actor: { id: string; type: string; name?: string | null; metadata?: Metadata };
  targets: { id: string; type: string; name?: string | null; metadata?: Metadata }[];
  context: { location: string; user_agent?: string | null };
  metadata: Metadata;
  seq: number;
  hash: string;
  prev_hash: string;
  received_at: string;
}

export interface Organization {
  object: 'organization';
  id: string;
  name: string;
  domains: { id: string; domain: string; state: string }[];
  external_id: string | null;
  metadata: Record<string, string> | null;
  created_at: string;
  updated_at: string;
  legal_hold?: { enabled: boolean; reason: string | null; updated_at: string | null };
  /** Verity's own system organization (administrative audit events): not a customer, never billed. */
  system?: boolean;
}

export interface Retention {
  retention_period_in_days: number;
  [key: string]: unknown;
}

export type StreamState = 'active' | 'inactive' | 'error' | 'invalid';

export type StreamType = 'Datadog' | 'Splunk' | 'S3' | 'GoogleCloudStorage' | 'AzureSentinel' | 'GenericHttps' | 'Syslog';

export interface LogStream {
  object: 'log_stream';
  id: string;
  organization_id: string;
  name: string | null;
  type: StreamType;
  state: StreamState;
  state_reason: string | null;
  paused: boolean;
  config: Record<string, unknown>;
  secrets_set: string[];
  last_synced_at: string | null;
  created_at: string;
  updated_at: string;
  stats: { delivered: number; failed: number; cursor_seq: number; lag_events: number; next_attempt_at: string | null };
}

export interface Delivery {
  object: 'log_stream_delivery';
  id: string;
  attempted_at: string;
  kind: 'batch' | 'test';
  first_seq: number | null;
  last_seq: number | null;
  event_count: number;
  bytes: number;
  outcome: string;
  http_status: number | null;
  latency_ms: number;
  error: string | null;
}

export interface TestResult {
  success: boolean;
  outcome: string;
  http_status: number | null;
  error: string | null;
  latency_ms: number;
}

export interface SchemaVersion {
  object: 'audit_log_schema';
  version: number;
  actor?: { metadata?: Record<string, unknown> };
  targets: { type: string; metadata?: Record<string, unknown> }[];
  metadata?: Record<string, unknown>;
  created_at: string;
}

export interface Action {
  object: 'audit_log_action';
  name: string;
  schema: SchemaVersion | null;
  created_at: string;
  updated_at: string;
}

export interface ApiKey {
  object: 'api_key';
  id: string;
  name: string;
  display_prefix: string;
  scopes: string[];
  organization_id: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  secret?: string;
}

export interface Stats {
  object: 'audit_log_stats';
  organization_id: string | null;
  interval: 'hour' | 'day';
  range_start: string;
  range_end: string;
  total: number;
  volume: { bucket: string; count: number }[];
  top_actions: { action: string; count: number }[];
  top_organizations: { organization_id: string; count: number }[];
}

export interface ExportJob {
  object: 'audit_log_export';
  id: string;
  state: 'pending' | 'ready' | 'error';
  url?: string;
  created_at: string;
  updated_at: string;
  organization_id: string;
  format: 'csv' | 'ndjson';
  gzip: boolean;
  rows_written: number;
  rows_total: number | null;
  percent: number;
  expires_at: string;
  /** What the export selects (older servers may omit it). */
  filters?: ExportFilters;
  error?: string;
}

export interface ExportFilters {
  range_start: string;
  range_end: string;
  actions: string[];
  actor_names: string[];
  actor_ids: string[];
  target_types: string[];
  /** Target ids (any of them); absent on exports made before this filter existed. */
  target_ids?: string[];
  metadata: Record<string, string[]>;
  /** Free-text search (every word must appear); absent or null when the export has none. */
  q?: string | null;
}

export interface OrganizationBill {
  organization_id: string;
  name: string;
  /** Only for an organization deleted since (it stays on the bills of the months it existed in). */
  deleted_at?: string;
  events_stored: number;
  events_stored_avg: number;
  events_ingested: number;
  siem_connections: number;
  event_units: number;
  siem_cost: number;
  retention_cost: number;
  total_cost: number;
}

export interface Usage {
  object: 'usage';
  month: string;
  prices: { siem_connection_monthly: number; per_million_events_monthly: number; currency: string };
  organizations: OrganizationBill[];
  totals: Omit<OrganizationBill, 'organization_id' | 'name' | 'deleted_at'>;
}

export interface OperatorSession {
  operator: { id: string; email: string };
  csrf_token: string;
}

/** GET /dashboard/api/session: always 200; being signed out is an answer, not an error. */
export type OperatorSessionProbe = ({ signed_in: true } & OperatorSession) | { signed_in: false };

export interface Brand {
  name: string;
  logo_url: string | null;
}

export interface PortalSession {
  organization: { id: string; name: string };
  intent: 'audit_logs' | 'log_streams';
  brand: Brand;
  csrf_token: string;
  return_url: string | null;
  /** Where to send the admin once a setup is done (generate_link's success_url). */
  success_url: string | null;
  expires_at: string;
}

/** GET /portal/api/session: always 200; an ended session still says whose portal it was (the brand). */
export type PortalSessionProbe = ({ signed_in: true } & PortalSession) | { signed_in: false; brand: Brand };
