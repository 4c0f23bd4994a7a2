-- Retention purge and usage metering, on top of 0003.

-- A purged run that starts right after an existing range extends it: the purge finds that range by its
-- last_seq (the primary key only serves lookups by first_seq).
create index purged_ranges_last_seq_idx on purged_ranges (organization_id, last_seq);

-- Ingest creates today's usage row (events_ingested) before the roll-up has measured anything, so a row
-- alone does not mean events_stored was measured. measured_at says it was; billing treats an unmeasured
-- day like a missing one. streams: log streams existing that day, by type ({"datadog": 2}).
alter table usage_daily add column measured_at timestamptz;
alter table usage_daily add column streams jsonb not null default '{}'::jsonb;

-- 0003 added events_stored with a default of 0, which is wrong for logs that already held events.
-- Count them once here; from now on ingest and purge keep the counter (never COUNT(*) at read time).
update org_log_heads h set events_stored = (select count(*) from events e where e.organization_id = h.organization_id)
where exists (select 1 from events e where e.organization_id = h.organization_id);
