-- Free-text search (`q`) moves its trigram index from each event to blocks of consecutive events.
--
-- Why: the per-event trigram index was most of what an append cost. A bench event's search text holds
-- ~150 distinct trigrams and each became a GIN entry: measured with the appender alone, it took 64 of
-- 104 µs of PostgreSQL CPU per event and on PGlite its pending-list merges were what made p99 68 ms.
-- Consecutive events of an organization repeat most of their words (actions, user agents, regions, names),
-- so a block's distinct lines hold far fewer trigrams per event (~28 instead of ~150 for the bench's mix).
--
-- A block's text is the set of distinct lines of its events' search texts. Search terms never hold a
-- line break (q is split on whitespace), so an event whose text contains a term lies in a block whose text
-- contains it: the blocks find candidates and the events' own search_text decides (src/query/query.sql.ts).
--
-- Triggers keep the blocks, so every way events are written or deleted (appends, COPY, purge, deleting an
-- organization) keeps them: each insert statement adds one block per organization and aligned run of up
-- to 128 sequence numbers; a delete rewrites the blocks it touched from the events left, or drops them,
-- so a purged event's words do not outlive it in a block.
create table event_search_blocks (
  organization_id text not null,
  first_seq bigint not null,
  last_seq bigint not null,
  event_count integer not null,
  search_text text not null,
  primary key (organization_id, first_seq)
);

-- Distinct lines of the search texts of events (organization_id, first_seq..last_seq) as they are now.
create function verity_search_block_text(org text, first_seq bigint, last_seq bigint) returns text
language sql stable as $$
  select string_agg(distinct line, E'\n')
  from events e, unnest(string_to_array(e.search_text, E'\n')) as line
  where e.organization_id = org and e.seq between first_seq and last_seq
$$;

create function verity_search_blocks_insert() returns trigger
language plpgsql as $$
begin
  insert into event_search_blocks (organization_id, first_seq, last_seq, event_count, search_text)
  select n.organization_id, min(n.seq), max(n.seq), count(*),
         (select string_agg(distinct line, E'\n') from unnest(array_agg(n.search_text)) as t(text),
                 unnest(string_to_array(t.text, E'\n')) as line)
  from new_events n
  group by n.organization_id, (n.seq - 1) / 128;
  return null;
end
$$;

create function verity_search_blocks_delete() returns trigger
language plpgsql as $$
begin
  -- The blocks overlapping what was deleted, with how many of their events are left: none left drops the
  -- block, some left rewrites its text from them, all left (a block inside the range but not hit) stays.
  with deleted as (
    select organization_id, min(seq) as lo, max(seq) as hi from old_events group by organization_id
  ), touched as (
    select b.organization_id, b.first_seq, b.event_count,
           (select count(*) from events e
            where e.organization_id = b.organization_id and e.seq between b.first_seq and b.last_seq) as left_count
    from deleted d
    join event_search_blocks b on b.organization_id = d.organization_id and b.first_seq <= d.hi and b.last_seq >= d.lo
  ), emptied as (
    delete from event_search_blocks b using touched t
    where b.organization_id = t.organization_id and b.first_seq = t.first_seq and t.left_count = 0
  )
  update event_search_blocks b
  set event_count = t.left_count, search_text = verity_search_block_text(b.organization_id, b.first_seq, b.last_seq)
  from touched t
  where b.organization_id = t.organization_id and b.first_seq = t.first_seq and t.left_count between 1 and t.event_count - 1;
  return null;
end
$$;

-- Blocks for the events stored so far, 128 sequence numbers each.
insert into event_search_blocks (organization_id, first_seq, last_seq, event_count, search_text)
select organization_id, min(seq), max(seq), count(*), verity_search_block_text(organization_id, min(seq), max(seq))
from events
group by organization_id, (seq - 1) / 128;

create trigger events_search_blocks_insert after insert on events
  referencing new table as new_events for each statement execute function verity_search_blocks_insert();
create trigger events_search_blocks_delete after delete on events
  referencing old table as old_events for each statement execute function verity_search_blocks_delete();

-- A 1 MB pending list (the default is 4 MB): on PGlite, where an insert merges the list inside the append,
-- a smaller list is a shorter stall; on PostgreSQL GinPendingCleaner empties it long before.
create index event_search_blocks_text_idx on event_search_blocks
  using gin (organization_id, search_text gin_trgm_ops) with (gin_pending_list_limit = 1024);
drop index events_org_search_idx;
