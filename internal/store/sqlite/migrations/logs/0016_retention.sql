-- Retention (store.Retention). An entry is never removed: its leaf stays,
-- so the tree can be recomputed from entries (lbm verify store) and every
-- proof still verifies. Retention deletes what the entry says instead,
-- and stamps when and under which schedule: content_deleted when its
-- content and search terms went, deleted when the rest did (Unix
-- nanoseconds, 0 when not), deleted_by the schedule.
ALTER TABLE entries ADD COLUMN content_deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE entries ADD COLUMN deleted         INTEGER NOT NULL DEFAULT 0;
ALTER TABLE entries ADD COLUMN deleted_by      TEXT;

-- The job pages through a month of one log's entries not yet deleted, in
-- (time, idx) order: without this index that is a scan of the whole table
-- (rows of 2.7 KB) per month. Partial, so deleted entries leave it; time
-- grows with idx, so an append adds at its right edge.
CREATE INDEX entries_retention ON entries (log, time, idx) WHERE deleted = 0;

-- Data keys whose content retention deleted some of, until no entry holds
-- content under them and they are destroyed (keys.db is another file, so
-- the key cannot be destroyed in the deleting transaction; this row is).
CREATE TABLE retention_pending_keys (
    id      BLOB PRIMARY KEY,
    subject TEXT NOT NULL,
    period  TEXT NOT NULL
) WITHOUT ROWID;

-- A month's step done for one category of one log, and how many entries a
-- hold kept then: a step with none kept is not looked at again.
CREATE TABLE retention_marks (
    log      TEXT    NOT NULL,
    category TEXT    NOT NULL,
    month    TEXT    NOT NULL,
    step     TEXT    NOT NULL,
    done     INTEGER NOT NULL,
    deleted  INTEGER NOT NULL,
    kept     INTEGER NOT NULL,
    PRIMARY KEY (log, category, month, step)
) WITHOUT ROWID;
