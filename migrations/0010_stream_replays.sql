-- How many times a replay has moved the stream's cursor. A worker delivering a batch when a replay lands
-- must not move the cursor past the replay's point; comparing cursors cannot tell a replay to exactly where
-- the batch started from no replay at all, this count can.
alter table log_streams add column replays integer not null default 0;
