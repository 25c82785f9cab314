-- What a scoped review selects on (store.EventQuery): the event's
-- event.category and event.action, and the people its related.user names.
--
-- related is the entry's Related as a JSON array, NULL when none, so that
-- reading an entry back costs no second query; entry_related is the same
-- people one row each, keyed for the lookup a query makes: the entries in
-- which a person is related, within a time range (time is copied from the
-- entry so that the range bounds the key scan, as entries_subject_time
-- does for subjects), joined back to entries through entries_log_idx.
ALTER TABLE entries ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE entries ADD COLUMN action   TEXT NOT NULL DEFAULT '';
ALTER TABLE entries ADD COLUMN related  TEXT;

CREATE TABLE entry_related (
    log    TEXT    NOT NULL,
    idx    INTEGER NOT NULL,
    person TEXT    NOT NULL,
    time   INTEGER NOT NULL, -- the entry's, Unix nanoseconds
    PRIMARY KEY (log, person, time, idx)
) WITHOUT ROWID;

-- Entries stored before this migration have no category, action or
-- related people: Open fills them from meta (backfillEvents), in batches
-- that each commit and advance cursor, the last entries rowid done, so an
-- interrupted backfill resumes where it stopped. The row is deleted when
-- the backfill ends; a store created at this migration has nothing to fill.
CREATE TABLE event_backfill (
    cursor INTEGER NOT NULL
);
INSERT INTO event_backfill (cursor) SELECT -1 WHERE EXISTS (SELECT 1 FROM entries);
