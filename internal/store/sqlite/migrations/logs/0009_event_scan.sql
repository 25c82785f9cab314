-- A scoped review picks a page of the few hundred to few thousand entries
-- its people have in a time range. Reading each candidate's row (about
-- 2.7 KB, scattered in log order) just to check its category, source and
-- action cost most of a query on a store larger than memory. So both
-- sides of the lookup now carry those columns in their keys: the page's
-- (time, idx) is chosen from the indexes alone, and only its rows are
-- read (store.EventQuery, QueryEvents).
--
-- The subject side: entries_subject_scan covers entries_subject_time's
-- searches too (subject, then log and time), so that index goes.
CREATE INDEX entries_subject_scan ON entries (subject, log, time, idx, category, source, action);
DROP INDEX entries_subject_time;

-- The related side: entry_related rows copy the entry's category, source
-- and action, as they already copy its time. The table is rebuilt from
-- entries.related in one pass over entries in rowid order, which reads
-- the file front to back; updating each row in place would look its
-- entry up at random, a disk read apiece on a large store.
CREATE TABLE entry_related_scan (
    log      TEXT    NOT NULL,
    idx      INTEGER NOT NULL,
    person   TEXT    NOT NULL,
    time     INTEGER NOT NULL, -- the entry's, Unix nanoseconds
    category TEXT    NOT NULL,
    source   TEXT    NOT NULL,
    action   TEXT    NOT NULL,
    PRIMARY KEY (log, person, time, idx)
) WITHOUT ROWID;
INSERT INTO entry_related_scan (log, idx, person, time, category, source, action)
    SELECT e.log, e.idx, j.value, e.time, e.category, e.source, e.action
    FROM entries e, json_each(e.related) j
    WHERE e.related IS NOT NULL;
DROP TABLE entry_related;
ALTER TABLE entry_related_scan RENAME TO entry_related;
