-- People: the directory, their local sign-in credentials, dual-control
-- changes, and the tokens (API tokens, browser sessions, set-up links) that
-- act for them. Times are Unix nanoseconds in bigint, as elsewhere; 0
-- stands for the zero time (never expires, not revoked, not left), as in
-- the SQLite engine.
--
-- Text that is ordered or searched is COLLATE "C": people are listed and
-- paged in byte order of their IDs, as on SQLite, whatever the database's
-- locale, and ILIKE then folds ASCII case only. Changes proposed at one
-- instant are listed in byte order of their IDs for the same reason.

ALTER TABLE tokens
    DROP CONSTRAINT tokens_kind_check,
    ADD CONSTRAINT tokens_kind_check CHECK (kind IN ('admin', 'source', 'user', 'session', 'setup')),
    ADD COLUMN role       text   NOT NULL DEFAULT '',
    ADD COLUMN expires    bigint NOT NULL DEFAULT 0,
    ADD COLUMN revoked    bigint NOT NULL DEFAULT 0,
    ADD COLUMN stepped_up bigint NOT NULL DEFAULT 0;
-- Revoking a person's tokens, and finding leavers who still hold one, look
-- up a subject's unrevoked tokens.
CREATE INDEX tokens_subject ON tokens (subject, revoked);

CREATE TABLE people (
    id      text   COLLATE "C" PRIMARY KEY,
    name    text   COLLATE "C" NOT NULL,
    number  text   COLLATE "C" NOT NULL,
    unit    text   COLLATE "C" NOT NULL,
    manager text   NOT NULL,
    rank    text   NOT NULL,
    grade   text   NOT NULL,
    roles   text   NOT NULL, -- role ids, space-separated, as given (sorted); '' for none
    adviser text   NOT NULL,
    left_on bigint NOT NULL, -- 0 while active
    updated bigint NOT NULL,
    version bigint NOT NULL CHECK (version >= 1)
);
CREATE INDEX people_left_on ON people (left_on) WHERE left_on <> 0;

-- No foreign key to people: people are never deleted, and a credential or
-- change of an unknown person is the caller's to refuse.
CREATE TABLE credentials (
    person      text   PRIMARY KEY,
    password    text   NOT NULL, -- argon2id PHC string; '' if none
    totp_secret bytea,           -- NULL until enrolled
    totp_step   bigint NOT NULL, -- the last accepted time step
    updated     bigint NOT NULL
);

CREATE TABLE changes (
    id          text   COLLATE "C" PRIMARY KEY,
    kind        text   NOT NULL,
    target      text   NOT NULL,
    payload     bytea,           -- JSON; NULL when none
    base        bigint NOT NULL,
    reason      text   NOT NULL,
    proposed_by text   NOT NULL,
    proposed    bigint NOT NULL,
    state       text   NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    decided_by  text   NOT NULL,
    decided     bigint NOT NULL  -- 0 while pending
);
CREATE INDEX changes_state_proposed ON changes (state, proposed);
CREATE INDEX changes_proposed ON changes (proposed);
