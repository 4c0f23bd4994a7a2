-- A value sealed with the master key for secrets at rest (VERITY_SECRET_KEY or the data directory's
-- secret.key) when a server first starts on this database. A process given another key cannot open it and
-- refuses to start, instead of failing later on every sealed destination credential.
create table secret_key_checks (
  name text primary key,
  sealed text not null,
  created_at timestamptz not null default now()
);
