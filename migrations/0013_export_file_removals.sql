-- Files of exports whose rows are gone: deleting an organization cascades its exports' rows, and their
-- files (in the data directory or the bucket) can only be removed after that commit. Recording them in the
-- delete's own transaction means none is forgotten when storage is unreachable then, or the process stops
-- in between: the export cleanup retries each until storage confirms, then drops its row.
create table export_file_removals (
  name text primary key,
  organization_id text not null,
  recorded_at timestamptz not null default now()
);
