-- Log streams: per-organization SIEM destinations, each with its own cursor into the organization's log.

create table log_streams (
  id text primary key,
  organization_id text not null references organizations (id) on delete cascade,
  name text,
  type text not null,
  -- Non-secret configuration, returned by the API.
  config jsonb not null,
  -- Secret fields as one AES-256-GCM sealed JSON object (see src/shared/secret-box.ts); never returned.
  secrets text,
  secret_fields text[] not null default '{}',
  state text not null check (state in ('active', 'inactive', 'error', 'invalid')),
  state_reason text,
  paused boolean not null default false,
  -- Highest sequence number delivered (or skipped past by start_from); the next batch starts after it.
  cursor_seq bigint not null,
  attempts integer not null default 0,
  failing_since timestamptz,
  next_attempt_at timestamptz,
  lease_owner text,
  lease_until timestamptz,
  last_synced_at timestamptz,
  delivered_count bigint not null default 0,
  failed_count bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Soft delete: metering bills a connection for the days it existed.
  deleted_at timestamptz
);
create index log_streams_org_idx on log_streams (organization_id) where deleted_at is null;

create table stream_deliveries (
  id bigserial primary key,
  stream_id text not null references log_streams (id) on delete cascade,
  attempted_at timestamptz not null default now(),
  kind text not null check (kind in ('batch', 'test')),
  first_seq bigint,
  last_seq bigint,
  event_count integer not null,
  bytes integer not null,
  outcome text not null,
  http_status integer,
  latency_ms integer not null,
  error text
);
create index stream_deliveries_stream_idx on stream_deliveries (stream_id, id desc);
