-- Retention (store.Retention), as in the SQLite engine's 0016: an entry is
-- never removed, so that the tree can be recomputed from entries and every
-- proof still verifies; retention deletes what the entry says, and stamps
-- when (Unix nanoseconds, 0 when not) and under which schedule. Constant
-- defaults: adding the columns rewrites no partition.
ALTER TABLE entries
    ADD COLUMN content_deleted bigint NOT NULL DEFAULT 0,
    ADD COLUMN deleted         bigint NOT NULL DEFAULT 0,
    ADD COLUMN deleted_by      text;

-- The job pages through a month of one log's entries not yet deleted, in
-- (time, idx) order; partial, so deleted entries leave it. Each month's
-- partition gets its own (ATTACH PARTITION builds it for partitions made
-- later).
CREATE INDEX entries_retention ON entries (log, time, idx) WHERE deleted = 0;

-- Data keys whose content retention deleted some of, until no entry holds
-- content under them and they are destroyed in the keys database, which
-- no transaction here can reach.
CREATE TABLE retention_pending_keys (
    id      bytea PRIMARY KEY,
    subject text  NOT NULL,
    period  text  NOT NULL
);

-- A month's step done for one category of one log, and how many entries a
-- hold kept then: a step with none kept is not looked at again.
CREATE TABLE retention_marks (
    log      text   NOT NULL,
    category text   NOT NULL,
    month    text   NOT NULL,
    step     text   NOT NULL,
    done     bigint NOT NULL,
    deleted  bigint NOT NULL,
    kept     bigint NOT NULL,
    PRIMARY KEY (log, category, month, step)
);
