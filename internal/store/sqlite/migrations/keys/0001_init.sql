-- Data keys live in their own database file so that restoring an old backup
-- of the logs never brings back a key destroyed since.
CREATE TABLE data_keys (
    id        BLOB    PRIMARY KEY,
    subject   TEXT    NOT NULL,
    period    TEXT    NOT NULL,
    kek_id    TEXT    NOT NULL,
    wrapped   BLOB,             -- NULL once destroyed
    created   INTEGER NOT NULL,
    destroyed INTEGER,
    UNIQUE (subject, period)
) WITHOUT ROWID;
