-- People: the directory, their local sign-in credentials, dual-control
-- changes, and the tokens (API tokens, browser sessions, set-up links) that
-- act for them. Times are Unix nanoseconds, as elsewhere; 0 stands for the
-- zero time (never expires, not revoked, not left), so that the columns
-- compare and index without NULL's three-valued logic.

-- SQLite cannot alter a CHECK constraint, so tokens is rebuilt to admit the
-- new kinds: create the new shape, copy, drop, rename. No table refers to
-- tokens, and the migration runs in one transaction, so a failure half-way
-- leaves the old table as it was.
CREATE TABLE tokens_new (
    hash       BLOB    PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('admin', 'source', 'user', 'session', 'setup')),
    subject    TEXT    NOT NULL,
    role       TEXT    NOT NULL DEFAULT '',
    created    INTEGER NOT NULL,
    expires    INTEGER NOT NULL DEFAULT 0,
    revoked    INTEGER NOT NULL DEFAULT 0,
    stepped_up INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO tokens_new (hash, kind, subject, created) SELECT hash, kind, subject, created FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
-- Revoking a person's tokens, and finding leavers who still hold one, look
-- up a subject's unrevoked tokens.
CREATE INDEX tokens_subject ON tokens (subject, revoked);

CREATE TABLE people (
    id      TEXT    PRIMARY KEY,
    name    TEXT    NOT NULL,
    number  TEXT    NOT NULL,
    unit    TEXT    NOT NULL,
    manager TEXT    NOT NULL,
    rank    TEXT    NOT NULL,
    grade   TEXT    NOT NULL,
    roles   TEXT    NOT NULL, -- role ids, space-separated, as given (sorted); '' for none
    adviser TEXT    NOT NULL,
    left_on INTEGER NOT NULL, -- 0 while active
    updated INTEGER NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1)
) WITHOUT ROWID;
CREATE INDEX people_left_on ON people (left_on) WHERE left_on <> 0;

-- No foreign key to people: people are never deleted, and a credential or
-- change of an unknown person is the caller's to refuse.
CREATE TABLE credentials (
    person      TEXT    PRIMARY KEY,
    password    TEXT    NOT NULL, -- argon2id PHC string; '' if none
    totp_secret BLOB,             -- NULL until enrolled
    totp_step   INTEGER NOT NULL, -- the last accepted time step
    updated     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE changes (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    payload     BLOB,             -- JSON; NULL when none
    base        INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    proposed_by TEXT    NOT NULL,
    proposed    INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    decided_by  TEXT    NOT NULL,
    decided     INTEGER NOT NULL  -- 0 while pending
) WITHOUT ROWID;
CREATE INDEX changes_state_proposed ON changes (state, proposed);
CREATE INDEX changes_proposed ON changes (proposed);
