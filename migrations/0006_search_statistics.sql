-- Free-text search (`q`) filters with `search_text ilike '%…%'`, and the planner chooses between the
-- trigram index and walking the time index newest-first by its estimate of how many rows match. With the
-- default statistics target that estimate is often off by orders of magnitude for rare terms at a million
-- events, and the slow plan wins; a larger sample of the column makes the estimate usable (see the q rows
-- of `npm run bench`'s search step and their plans).
alter table events alter column search_text set statistics 1000;
