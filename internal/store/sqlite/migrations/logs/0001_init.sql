-- The logs: entries (one row per leaf), tiles of the Merkle tree, the
-- committed tree state, and every published checkpoint.
-- A rowid table: its rows (about 1.7 KB) are kept in the table b-tree
-- while the (log, idx) key lives in a narrow index, which halves the file
-- against a WITHOUT ROWID table whose wide rows overflow their pages.
CREATE TABLE entries (
    log       TEXT    NOT NULL,
    idx       INTEGER NOT NULL,
    id        BLOB    NOT NULL,
    time      INTEGER NOT NULL, -- Unix nanoseconds
    source    TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    client_id TEXT,             -- the source's event.id, NULL when none
    leaf      BLOB    NOT NULL,
    meta      BLOB    NOT NULL,
    content   BLOB,
    key_id    BLOB
);
CREATE UNIQUE INDEX entries_log_idx ON entries (log, idx);
CREATE UNIQUE INDEX entries_id ON entries (id);
CREATE UNIQUE INDEX entries_client_id ON entries (log, source, client_id) WHERE client_id IS NOT NULL;

CREATE TABLE tiles (
    log    TEXT    NOT NULL,
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hashes BLOB    NOT NULL, -- up to 256 concatenated 32-byte hashes
    PRIMARY KEY (log, level, idx)
) WITHOUT ROWID;

CREATE TABLE tree_state (
    log   TEXT    PRIMARY KEY,
    size  INTEGER NOT NULL,
    root  BLOB    NOT NULL,
    range BLOB    NOT NULL -- concatenated 32-byte hashes of the compact range [0, size)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
    log  TEXT    NOT NULL,
    size INTEGER NOT NULL,
    time INTEGER NOT NULL,
    note BLOB    NOT NULL,
    PRIMARY KEY (log, size)
) WITHOUT ROWID;

CREATE TABLE sources (
    id      TEXT    PRIMARY KEY,
    created INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE tokens (
    hash    BLOB    PRIMARY KEY,
    kind    TEXT    NOT NULL CHECK (kind IN ('admin', 'source')),
    subject TEXT    NOT NULL,
    created INTEGER NOT NULL
) WITHOUT ROWID;
