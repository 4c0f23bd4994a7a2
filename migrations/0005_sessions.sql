-- Browser access: operators (the vendor's team, dashboard), their sessions and one-time setup tokens;
-- Admin Portal links and the sessions they open (a customer's IT admin, one organization, one intent);
-- the system organization that records administrative actions as audit events.
-- Every token is 256 random bits and only its SHA-256 is stored, like API keys: a database leak hands out
-- no usable session.

create table operators (
  id text primary key,
  -- Stored lower-cased: an address is one operator however it is typed.
  email text not null unique,
  -- scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>: parameters travel with the hash so they can be raised later.
  password_hash text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_login_at timestamptz
);

create table operator_sessions (
  token_hash text primary key,
  id text not null unique,
  operator_id text not null references operators (id) on delete cascade,
  -- Not a credential on its own (useless without the cookie), so kept as is to be echoed to the page.
  csrf_token text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index operator_sessions_expiry_idx on operator_sessions (expires_at);

create table operator_setup_tokens (
  token_hash text primary key,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);

create table portal_links (
  id text primary key,
  token_hash text not null unique,
  organization_id text not null references organizations (id) on delete cascade,
  intent text not null check (intent in ('audit_logs', 'log_streams')),
  return_url text,
  success_url text,
  embed boolean not null default false,
  -- Who asked for the link (an API key id or an operator id), for the audit trail.
  created_by text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  -- Single use: set by the one UPDATE … WHERE used_at IS NULL that wins.
  used_at timestamptz
);
create index portal_links_expiry_idx on portal_links (expires_at);

create table portal_sessions (
  token_hash text primary key,
  id text not null unique,
  link_id text not null,
  organization_id text not null references organizations (id) on delete cascade,
  intent text not null check (intent in ('audit_logs', 'log_streams')),
  csrf_token text not null,
  return_url text,
  success_url text,
  embed boolean not null default false,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index portal_sessions_expiry_idx on portal_sessions (expires_at);

-- Which organization is the system one. Kept here rather than by external_id alone, so a tenant that
-- renamed its own organization's external_id to 'verity-system' could never receive the system's events.
create table system_organization (
  singleton boolean primary key default true check (singleton),
  organization_id text not null references organizations (id) on delete cascade
);
