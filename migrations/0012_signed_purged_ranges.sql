-- Each purged range is signed by the server that purged it, like a checkpoint: Ed25519 over
-- {object, organization_id, first_seq, last_seq, last_hash, purged_at}. Without a signature, a row written
-- straight into the database could bridge events deleted outside retention, and the chain would still
-- verify. Ranges recorded before this migration are signed once, by the first server to start after it
-- (the backfill marker below records that it ran).
alter table purged_ranges add column key_id text;
alter table purged_ranges add column signature text;

create table integrity_backfills (
  name text primary key,
  done_at timestamptz not null default now(),
  rows_signed bigint not null
);
