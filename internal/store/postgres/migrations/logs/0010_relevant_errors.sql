-- The register of relevant errors (store.StoredRelevantError, LEGAL.md §4).
-- Times are Unix nanoseconds in bigint, 0 for the zero time, as elsewhere.

-- Ids are COLLATE "C", as requests' are, so that ties on raised order
-- byte by byte as on SQLite. kind and state are unconstrained, as on
-- SQLite: they are internal/relevanterror's. request is '' when the entry
-- names none. Entries are never deleted.
CREATE TABLE relevant_errors (
    id         text   COLLATE "C" PRIMARY KEY,
    reference  text   NOT NULL UNIQUE,
    kind       text   NOT NULL,
    request    text   COLLATE "C" NOT NULL,
    state      text   NOT NULL,
    identified bigint NOT NULL,
    raised     bigint NOT NULL,
    deadline   bigint NOT NULL,
    updated    bigint NOT NULL,
    body       bytea,             -- the entry as JSON; NULL when empty
    version    bigint NOT NULL CHECK (version >= 1)
);
-- The register lists newest first; the overdue check reads open entries
-- by deadline; the automatic raise looks entries up by request.
CREATE INDEX relevant_errors_raised ON relevant_errors (raised, id);
CREATE INDEX relevant_errors_state ON relevant_errors (state, deadline);
CREATE INDEX relevant_errors_request ON relevant_errors (request);

-- next is the number the year's next reference takes, as request_numbers:
-- the upsert that takes a number locks the year's row across nodes.
CREATE TABLE relevant_error_numbers (
    year bigint PRIMARY KEY,
    next bigint NOT NULL CHECK (next >= 2)
);
