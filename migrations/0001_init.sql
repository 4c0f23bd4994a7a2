-- Verity's first schema: organizations, the per-organization hash-chained event log, action schemas,
-- API keys and idempotency records. Runs unchanged on PostgreSQL (15+) and PGlite.

create extension if not exists pg_trgm;
create extension if not exists btree_gin;

create table organizations (
  id text primary key,
  name text not null,
  external_id text unique,
  metadata jsonb not null default '{}'::jsonb,
  retention_period_in_days integer not null check (retention_period_in_days between 1 and 3650),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table organization_domains (
  id text primary key,
  organization_id text not null references organizations (id) on delete cascade,
  domain text not null,
  state text not null,
  created_at timestamptz not null default now(),
  unique (organization_id, domain)
);

-- One row per organization. Appending locks it (FOR UPDATE), so sequence numbers are handed out and
-- committed in order: a reader that has seen seq n never later sees a new event with seq <= n.
create table org_log_heads (
  organization_id text primary key references organizations (id) on delete cascade,
  seq bigint not null default 0,
  hash text not null
);

-- No foreign key to organizations: the head-row lock already proves the organization exists, and a
-- per-row FK check would tax the hottest insert path.
create table events (
  organization_id text not null,
  seq bigint not null,
  id text not null,
  occurred_at timestamptz not null,
  received_at timestamptz not null default now(),
  action text not null,
  actor_id text not null,
  actor_name text,
  -- Target ids/types, actor name and metadata pairs, prefixed by kind (tid:, tty:, an:, m:key=value):
  -- one GIN index serves every "contains" filter.
  tags text[] not null,
  search_text text not null,
  data jsonb not null,
  prev_hash text not null,
  hash text not null,
  primary key (organization_id, seq)
);
create unique index events_id_key on events (id);
create index events_org_time_idx on events (organization_id, occurred_at desc, id desc);
create index events_org_action_time_idx on events (organization_id, action, occurred_at desc, id desc);
create index events_org_actor_time_idx on events (organization_id, actor_id, occurred_at desc, id desc);
create index events_org_tags_idx on events using gin (organization_id, tags);
create index events_org_search_idx on events using gin (organization_id, search_text gin_trgm_ops);

create table actions (
  name text primary key,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Versions are immutable: rows are only ever inserted.
create table action_schemas (
  action text not null references actions (name) on delete cascade,
  version integer not null,
  id text not null unique,
  schema jsonb not null,
  created_at timestamptz not null default now(),
  primary key (action, version)
);

create table api_keys (
  id text primary key,
  name text not null,
  -- SHA-256 of the secret: the secret is 256 random bits, so a slow hash buys nothing.
  secret_hash text not null unique,
  display_prefix text not null,
  scopes text[] not null,
  organization_id text references organizations (id) on delete cascade,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

create table idempotency_keys (
  scope text not null,
  key text not null,
  request_hash text not null,
  state text not null check (state in ('processing', 'done')),
  response_status integer,
  response_body text,
  created_at timestamptz not null default now(),
  primary key (scope, key)
);
create index idempotency_keys_created_idx on idempotency_keys (created_at);
