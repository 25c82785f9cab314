-- Requests to monitor, record or review a person's information, and the
-- per-year counters their references are numbered from. Times are Unix
-- nanoseconds in bigint, 0 for the zero time, as elsewhere. Requests are
-- never deleted here (store.StoredRequest says why).
--
-- Ids are COLLATE "C", as people's are: requests are paged in byte order
-- of their IDs, as on SQLite, and requester and subjects join people.id.
-- state is unconstrained, as on SQLite: the states are internal/requests'.
CREATE TABLE requests (
    id         text     COLLATE "C" PRIMARY KEY,
    reference  text     COLLATE "C" NOT NULL UNIQUE,
    requester  text     COLLATE "C" NOT NULL,
    subjects   text[]   COLLATE "C" NOT NULL, -- as given (sorted); '{}' for none
    state      text     NOT NULL,
    created    bigint   NOT NULL,
    updated    bigint   NOT NULL,
    expires_at bigint   NOT NULL, -- 0 until authorised
    deadline   bigint   NOT NULL, -- 0 when nothing is pending
    body       bytea,             -- the request as JSON; NULL when empty
    version    bigint   NOT NULL CHECK (version >= 1)
);
-- Listings page in ID order, so the id follows each filter column and a
-- page is one index range.
CREATE INDEX requests_state ON requests (state, id);
CREATE INDEX requests_requester ON requests (requester, id);
-- A person's requests: subjects @> ARRAY[person] uses it, so no listing
-- reads every request's subjects.
CREATE INDEX requests_subjects ON requests USING gin (subjects);
-- The deadline sweeper asks only for requests with something pending,
-- which at any time are few of those kept.
CREATE INDEX requests_deadline ON requests (deadline) WHERE deadline <> 0;

-- next is the number the year's next reference takes. A row rather than a
-- sequence per year: the upsert that takes a number creates the year's
-- row, and its row lock orders concurrent callers across nodes.
CREATE TABLE request_numbers (
    year bigint PRIMARY KEY,
    next bigint NOT NULL CHECK (next >= 2)
);
