-- The monitoring notice and its acknowledgements, the catalogue's approved
-- versions, and subject access requests. Times are Unix nanoseconds, 0 for
-- the zero time, as elsewhere.
--
-- No foreign keys to people or notices, as for credentials and changes:
-- neither is ever deleted, and the statement that inserts an
-- acknowledgement or a request checks what it names exists (and, for an
-- acknowledgement, that the notice is published, which no constraint can
-- say).

CREATE TABLE notices (
    version      INTEGER PRIMARY KEY CHECK (version >= 1),
    title        TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    short        TEXT    NOT NULL,
    public_text  TEXT    NOT NULL,
    public_short TEXT    NOT NULL,
    categories   TEXT    NOT NULL, -- a JSON array of strings, as given (sorted); '[]' for none
    created      INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    published    INTEGER NOT NULL, -- 0 while a draft
    published_by TEXT    NOT NULL
);

-- The primary key finds a person's acknowledgements and refuses a second
-- one of a version; acknowledgements_version serves the other direction,
-- the per-version anti-join of Unacknowledged and Coverage.
CREATE TABLE acknowledgements (
    person  TEXT    NOT NULL,
    version INTEGER NOT NULL,
    time    INTEGER NOT NULL,
    via     TEXT    NOT NULL,
    entry   INTEGER NOT NULL, -- the oversight log index; a uint64's bits
    PRIMARY KEY (person, version)
) WITHOUT ROWID;
CREATE INDEX acknowledgements_version ON acknowledgements (version, person);

-- The YAML files are NULL when empty, and read back nil.
CREATE TABLE catalogue_versions (
    version     INTEGER PRIMARY KEY CHECK (version >= 1),
    purposes    BLOB,
    legislation BLOB,
    criteria    BLOB,
    created     INTEGER NOT NULL,
    change_id   TEXT    NOT NULL -- the change that approved it
);

-- state is unconstrained: how requests are handled, and so their states,
-- comes with retention, and SQLite cannot alter a CHECK in place.
CREATE TABLE subject_access_requests (
    id      TEXT    PRIMARY KEY,
    person  TEXT    NOT NULL,
    made    INTEGER NOT NULL,
    details TEXT    NOT NULL,
    state   TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX subject_access_requests_person ON subject_access_requests (person, made);
CREATE INDEX subject_access_requests_made ON subject_access_requests (made);
