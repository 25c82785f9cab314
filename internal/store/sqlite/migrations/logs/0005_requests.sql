-- Requests to monitor, record or review a person's information, and the
-- per-year counters their references are numbered from. Times are Unix
-- nanoseconds, 0 for the zero time, as elsewhere. Requests are never
-- deleted here (store.StoredRequest says why), so nothing cascades.
--
-- state is unconstrained: the states are internal/requests', and SQLite
-- cannot alter a CHECK in place when they change.
CREATE TABLE requests (
    id         TEXT    PRIMARY KEY,
    reference  TEXT    NOT NULL UNIQUE,
    requester  TEXT    NOT NULL,
    subjects   TEXT    NOT NULL, -- a JSON array of person ids, as given (sorted); '[]' for none
    state      TEXT    NOT NULL,
    created    INTEGER NOT NULL,
    updated    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, -- 0 until authorised
    deadline   INTEGER NOT NULL, -- 0 when nothing is pending
    body       BLOB,             -- the request as JSON; NULL when empty
    version    INTEGER NOT NULL CHECK (version >= 1)
) WITHOUT ROWID;
-- Listings page in ID order, so the id follows each filter column and a
-- page is one index range.
CREATE INDEX requests_state ON requests (state, id);
CREATE INDEX requests_requester ON requests (requester, id);
-- The deadline sweeper asks only for requests with something pending,
-- which at any time are few of those kept.
CREATE INDEX requests_deadline ON requests (deadline) WHERE deadline <> 0;

-- The subjects again, one row each, so that finding a person's requests
-- is an index range rather than a parse of every row's JSON. Written in
-- the transaction that writes the request. The primary key serves the
-- replacement of a request's subjects; request_subjects_person the query.
CREATE TABLE request_subjects (
    request_id TEXT NOT NULL REFERENCES requests (id),
    person     TEXT NOT NULL,
    PRIMARY KEY (request_id, person)
) WITHOUT ROWID;
CREATE INDEX request_subjects_person ON request_subjects (person, request_id);

-- next is the number the year's next reference takes.
CREATE TABLE request_numbers (
    year INTEGER PRIMARY KEY,
    next INTEGER NOT NULL CHECK (next >= 2)
);
