-- Scoped review queries (store.EventQuery) select on an entry's
-- event.category, event.action and related.user, kept in columns beside
-- meta so that the store selects without decoding entries. ALTER TABLE on
-- the partitioned parent adds the columns to every partition, and a
-- partition created later copies them (LIKE entries).
--
-- Entries stored before this migration read '' and NULL here; Open fills
-- them from meta in batches (backfill.go), finding them through
-- entries_unfilled.
ALTER TABLE entries
    ADD COLUMN category text   NOT NULL DEFAULT '',
    ADD COLUMN action   text   NOT NULL DEFAULT '',
    -- related.user, sorted and unique; NULL when none.
    ADD COLUMN related  text[];

-- A review asks for the entries of some people, as subject or as related,
-- in a time range. The subject side is entries_subject_time; this index is
-- the related side, for the && overlap. A column rather than a table of
-- (entry, person) rows: the people come and go with their entry's
-- partition (retention drops a month at a time), and an append stays one
-- COPY into entries. Partial: most events name no related people, and
-- their rows then cost the GIN index nothing on append; a strict && on
-- related implies related IS NOT NULL, so queries still use it.
CREATE INDEX entries_related ON entries USING gin (related) WHERE related IS NOT NULL;

-- Every event has an event.category, so only entries stored before this
-- migration have none: the index is empty once the backfill has run, and
-- appends never write to it. It lets each Open find what is left to fill
-- without reading every entry.
CREATE INDEX entries_unfilled ON entries (log, idx) WHERE category = '';
