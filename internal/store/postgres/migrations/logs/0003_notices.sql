-- The monitoring notice and its acknowledgements, the catalogue's approved
-- versions, and subject access requests. Times are Unix nanoseconds in
-- bigint, 0 for the zero time, as elsewhere.
--
-- No foreign keys to people or notices, as for credentials and changes:
-- neither is ever deleted, and the statement that inserts an
-- acknowledgement or a request checks what it names exists (and, for an
-- acknowledgement, that the notice is published, which no constraint can
-- say). A foreign key to people would also take a share lock on the
-- person's row, making an acknowledgement wait behind an HR import.
--
-- Columns that join people.id are COLLATE "C" like it, so that the join's
-- equality needs no collation of its own and can use either index.

CREATE TABLE notices (
    version      bigint PRIMARY KEY CHECK (version >= 1),
    title        text   NOT NULL,
    text         text   NOT NULL,
    short        text   NOT NULL,
    public_text  text   NOT NULL,
    public_short text   NOT NULL,
    categories   text[] NOT NULL, -- as given (sorted); '{}' for none
    created      bigint NOT NULL,
    created_by   text   NOT NULL,
    published    bigint NOT NULL, -- 0 while a draft
    published_by text   NOT NULL
);

-- The primary key finds a person's acknowledgements and refuses a second
-- one of a version; acknowledgements_version serves the other direction,
-- the per-version anti-join of Unacknowledged and Coverage.
CREATE TABLE acknowledgements (
    person  text   COLLATE "C" NOT NULL,
    version bigint NOT NULL,
    time    bigint NOT NULL,
    via     text   NOT NULL,
    entry   bigint NOT NULL, -- the oversight log index; a uint64's bits
    PRIMARY KEY (person, version)
);
CREATE INDEX acknowledgements_version ON acknowledgements (version, person);

-- The YAML files are NULL when empty, and read back nil.
CREATE TABLE catalogue_versions (
    version     bigint PRIMARY KEY CHECK (version >= 1),
    purposes    bytea,
    legislation bytea,
    criteria    bytea,
    created     bigint NOT NULL,
    change_id   text   NOT NULL -- the change that approved it
);

-- state is unconstrained, as on SQLite: how requests are handled, and so
-- their states, comes with retention.
CREATE TABLE subject_access_requests (
    id      text   COLLATE "C" PRIMARY KEY,
    person  text   COLLATE "C" NOT NULL,
    made    bigint NOT NULL,
    details text   NOT NULL,
    state   text   NOT NULL
);
CREATE INDEX subject_access_requests_person ON subject_access_requests (person, made);
CREATE INDEX subject_access_requests_made ON subject_access_requests (made);
