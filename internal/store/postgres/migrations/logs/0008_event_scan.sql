-- Scoped review queries (store.EventQuery) choose their page from narrow
-- covering indexes and then read only the page's rows. Through 0007 a
-- query found its candidates by index but read each one's whole row (about
-- 2.7 KB, scattered in log order) to check its log, category, source and
-- action, and sorted whole rows before the limit: on a store of ten million
-- events one subject's 30 days (about 1,300 candidates) took a p99 of
-- 239 ms for a page of 100 (docs/benchmarks.md). With every column a query
-- selects on held in the index, the page is an index-only scan, and only
-- the page's rows are read, by primary key.
--
-- On a store that holds entries this migration builds the index over all of
-- them, holding off appends while it does (minutes at ten million entries),
-- once.

-- The subject side. subject then log, as entries_subject_time's (subject,
-- time) served SearchTerms, which names both; time and idx are the order a
-- page is chosen in; the INCLUDE columns are what QueryEvents filters on
-- and are never range-scanned, so they ride in the leaf only.
CREATE INDEX entries_subject_scan ON entries (subject, log, time, idx) INCLUDE (category, source, action);
-- Every query that narrowed by subject names the log too, so the new
-- index serves it; two indexes on subject would double the cost of each
-- append for nothing.
DROP INDEX entries_subject_time;

-- The related side: one row per (entry, person in its related.user), with
-- the entry's time and index, and the columns a query filters on, so that
-- the people's related entries in a time range are one key range each of
-- the primary key, read index-only. It replaces the GIN index on
-- entries.related (0007), which found the entries but could say nothing
-- about them without reading each row, and cannot give them in time order.
--
-- Partitioned by month like entries, with a twin partition for each of
-- entries' (entry_related_YYYYMM beside entries_YYYYMM, same bounds),
-- created with it, so that dropping a month drops both and the rows of an
-- entry live and die with it. An append writes the rows with a second COPY
-- in its transaction. The primary key holds the partition key, as
-- PostgreSQL requires, and refuses a person twice for one entry.
CREATE TABLE entry_related (
    log      text   NOT NULL,
    person   text   NOT NULL,
    time     bigint NOT NULL, -- the entry's, Unix nanoseconds
    idx      bigint NOT NULL,
    category text   NOT NULL,
    source   text   NOT NULL,
    action   text   NOT NULL,
    PRIMARY KEY (log, person, time, idx) INCLUDE (category, source, action)
) PARTITION BY RANGE (time);

-- entries.related stays, as the entry's Related read back with it; nothing
-- searches it any more, so its GIN index only slows appends.
DROP INDEX entries_related;

-- Entries stored before this migration have no entry_related rows: Open
-- creates the twin partitions and fills them from entries.related
-- (fillRelated), in batches that each commit and advance the cursor, the
-- partition being filled and the last (log, idx) done in it, so that an
-- interrupted fill resumes where it stopped. The row is deleted when the
-- fill ends, so later Opens cost one probe; a store with no entries has
-- nothing to fill, and never gets the row.
CREATE TABLE entry_related_fill (
    part text   NOT NULL, -- '' before the first partition
    log  text   NOT NULL,
    idx  bigint NOT NULL
);
INSERT INTO entry_related_fill (part, log, idx) SELECT '', '', -1 WHERE EXISTS (SELECT 1 FROM entries);
