-- The register of relevant errors (store.StoredRelevantError, LEGAL.md §4).
-- Times are Unix nanoseconds, 0 for the zero time, as elsewhere.

-- kind and state are unconstrained: they are internal/relevanterror's, as
-- an alert's state is internal/alerts'. request is '' when the entry
-- names none. Entries are never deleted.
CREATE TABLE relevant_errors (
    id         TEXT    PRIMARY KEY,
    reference  TEXT    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL,
    request    TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    identified INTEGER NOT NULL,
    raised     INTEGER NOT NULL,
    deadline   INTEGER NOT NULL,
    updated    INTEGER NOT NULL,
    body       BLOB,             -- the entry as JSON; NULL when empty
    version    INTEGER NOT NULL CHECK (version >= 1)
) WITHOUT ROWID;
-- The register lists newest first; the overdue check reads open entries
-- by deadline; the automatic raise looks entries up by request.
CREATE INDEX relevant_errors_raised ON relevant_errors (raised, id);
CREATE INDEX relevant_errors_state ON relevant_errors (state, deadline);
CREATE INDEX relevant_errors_request ON relevant_errors (request);

-- next is the number the year's next reference takes, as request_numbers.
CREATE TABLE relevant_error_numbers (
    year INTEGER PRIMARY KEY,
    next INTEGER NOT NULL CHECK (next >= 2)
);
