-- The logs on PostgreSQL: the same entities as the SQLite engine, shaped for
-- billions of rows. Times are Unix nanoseconds in bigint columns, because
-- timestamptz keeps only microseconds and the store returns what it stored.

-- entries is partitioned by month of event time (UTC); the engine creates
-- each month's partition when a batch first needs it. Partitions let
-- retention drop a month at a time and let time-bounded review queries
-- touch only the months they ask for. A unique index on a partitioned table
-- must contain the partition key, so global uniqueness of IDs, indexes and
-- client ids is kept in the narrow unpartitioned tables below, written in
-- the same transaction.
CREATE TABLE entries (
    log       text   NOT NULL,
    idx       bigint NOT NULL,
    id        bytea  NOT NULL,
    time      bigint NOT NULL,
    source    text   NOT NULL,
    subject   text   NOT NULL,
    client_id text,
    leaf      bytea  NOT NULL,
    meta      bytea  NOT NULL,
    content   bytea,
    key_id    bytea,
    -- Blinded search terms of content (internal/search): keyed hashes under
    -- the entry's data key, so they mean nothing once that key is destroyed.
    terms     tsvector,
    PRIMARY KEY (log, idx, time)
) PARTITION BY RANGE (time);
-- Review searches one subject in a time range: this index narrows a search
-- to that person's entries, and the tsvector match runs on those. A GIN
-- index on terms made searches of a busy subject 2.4 times faster (3.5 ms
-- against 8.4 ms) but ingest about 30% slower, in the writer's serial
-- transaction (docs/benchmarks.md); add it if searches ever span subjects.
CREATE INDEX entries_subject_time ON entries (subject, time);

-- One row per entry: where it is (log, idx, time) by its ID.
CREATE TABLE entry_ids (
    id   bytea  PRIMARY KEY,
    log  text   NOT NULL,
    idx  bigint NOT NULL,
    time bigint NOT NULL,
    UNIQUE (log, idx)
);

-- One row per entry that has a source event.id: deduplication.
CREATE TABLE client_ids (
    log       text   NOT NULL,
    source    text   NOT NULL,
    client_id text   NOT NULL,
    idx       bigint NOT NULL,
    time      bigint NOT NULL,
    PRIMARY KEY (log, source, client_id)
);

CREATE TABLE tiles (
    log    text   NOT NULL,
    level  bigint NOT NULL,
    idx    bigint NOT NULL,
    hashes bytea  NOT NULL, -- up to 256 concatenated 32-byte hashes
    PRIMARY KEY (log, level, idx)
);

CREATE TABLE tree_state (
    log   text   PRIMARY KEY,
    size  bigint NOT NULL,
    root  bytea  NOT NULL,
    range bytea  NOT NULL -- concatenated 32-byte hashes of the compact range [0, size)
);

CREATE TABLE checkpoints (
    log  text   NOT NULL,
    size bigint NOT NULL,
    time bigint NOT NULL,
    note bytea  NOT NULL,
    PRIMARY KEY (log, size)
);

CREATE TABLE sources (
    id      text   PRIMARY KEY,
    created bigint NOT NULL
);

CREATE TABLE tokens (
    hash    bytea  PRIMARY KEY,
    kind    text   NOT NULL CHECK (kind IN ('admin', 'source')),
    subject text   NOT NULL,
    created bigint NOT NULL
);
