-- Event lifecycle: background jobs, exports, retention with legal hold, usage metering, integrity.

alter table organizations add column legal_hold boolean not null default false;
alter table organizations add column legal_hold_reason text;
alter table organizations add column legal_hold_updated_at timestamptz;

-- Events currently stored, kept by ingest (+) and purge (−): never COUNT(*) at read time.
alter table org_log_heads add column events_stored bigint not null default 0;

-- Retention deletes events, which cuts links of the hash chain. Each maximal run of purged sequence
-- numbers is remembered with the hash of its last event, so the event after the run still verifies
-- (its prev_hash must equal last_hash). A run starting at seq 1 is the chain's new anchor.
create table purged_ranges (
  organization_id text not null references organizations (id) on delete cascade,
  first_seq bigint not null,
  last_seq bigint not null,
  last_hash text not null,
  event_count bigint not null,
  purged_at timestamptz not null default now(),
  primary key (organization_id, first_seq)
);

-- Signed statements "organization O's log had hash H at seq S at time T" (Ed25519).
create table checkpoints (
  organization_id text not null references organizations (id) on delete cascade,
  seq bigint not null,
  hash text not null,
  created_at timestamptz not null default now(),
  key_id text not null,
  signature text not null,
  primary key (organization_id, seq)
);

-- A small job queue with leases (DESIGN.md §2): exports, purge, usage roll-up, checkpoints.
create table jobs (
  id text primary key,
  kind text not null,
  payload jsonb not null default '{}'::jsonb,
  state text not null default 'pending' check (state in ('pending', 'running', 'done', 'failed')),
  run_at timestamptz not null default now(),
  lease_owner text,
  lease_until timestamptz,
  attempts integer not null default 0,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index jobs_due_idx on jobs (run_at) where state in ('pending', 'running');

create table exports (
  id text primary key,
  organization_id text not null references organizations (id) on delete cascade,
  state text not null check (state in ('pending', 'ready', 'error')),
  format text not null check (format in ('csv', 'ndjson')),
  gzip boolean not null default false,
  filters jsonb not null,
  rows_written bigint not null default 0,
  rows_total bigint,
  bytes bigint,
  -- Where the file lives: a path under the data directory, or an object key in the export bucket.
  location text,
  error text,
  created_by text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  expires_at timestamptz
);
create index exports_org_idx on exports (organization_id, created_at desc);

-- One row per organization and UTC day. events_ingested is added to by ingest; events_stored and
-- streams are snapshots written by the usage roll-up (today's row is refreshed as the day goes on).
create table usage_daily (
  organization_id text not null references organizations (id) on delete cascade,
  day date not null,
  events_ingested bigint not null default 0,
  events_stored bigint not null default 0,
  primary key (organization_id, day)
);
