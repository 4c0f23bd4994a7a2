-- A past month's bill is final (DESIGN.md §8), so deleting an organization must not take its usage with
-- it. The usage rows lose their cascading foreign key and outlive the organization; what the bill needs
-- besides them (its name, when it existed, its log streams' lifetimes, which go with log_streams) is kept in
-- deleted_organizations when it is deleted.
alter table usage_daily drop constraint usage_daily_organization_id_fkey;

create table deleted_organizations (
  id text primary key,
  name text not null,
  created_at timestamptz not null,
  deleted_at timestamptz not null default now(),
  -- The stored-events counter at deletion: the deletion day's figure while that day is today.
  events_stored bigint not null,
  -- [{"created_at": …, "deleted_at": …}] for each of its log streams, live ones ended at the deletion.
  streams jsonb not null default '[]'::jsonb
);
