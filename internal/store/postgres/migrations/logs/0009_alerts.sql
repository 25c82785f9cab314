-- Detection: the approved versions of the rules (store.RuleSetVersion),
-- the alerts the rules raise (store.StoredAlert), and how far the detector
-- has read each log. Times are Unix nanoseconds in bigint, 0 for the zero
-- time, as elsewhere.

-- A version is added only by the approval of a "rules" change, in the
-- decision's transaction, and is never changed or removed, as a consent
-- policy version is: the rules behind any alert can always be read back.
-- rules is NULL when empty, and reads back nil.
CREATE TABLE rule_set_versions (
    version     bigint PRIMARY KEY CHECK (version >= 1),
    rules       bytea,
    created     bigint NOT NULL,
    change_id   text   NOT NULL, -- the change that approved it
    approved_by text   NOT NULL
);

-- Ids are COLLATE "C", as requests' are: alerts are paged in byte order
-- of their IDs, as on SQLite, and assignee joins people.id. state and
-- severity are unconstrained, as on SQLite: they are internal/alerts'.
-- dedup is unique so that a detector replaying the log after a restart
-- stores each alert once: AddAlerts skips a row that meets it. subject
-- has no index: the store never lists alerts by the person they are about.
CREATE TABLE alerts (
    id         text   COLLATE "C" PRIMARY KEY,
    rule       text   NOT NULL,
    severity   text   NOT NULL,
    subject    text   COLLATE "C" NOT NULL,
    pseudonym  text   NOT NULL,
    state      text   NOT NULL,
    assignee   text   COLLATE "C" NOT NULL, -- '' when unassigned
    event_time bigint NOT NULL,             -- of the event that fired it
    created    bigint NOT NULL,
    updated    bigint NOT NULL,
    dedup      text   COLLATE "C" NOT NULL UNIQUE,
    body       bytea,                       -- the alert as JSON; NULL when empty
    version    bigint NOT NULL CHECK (version >= 1)
);
-- Listings page newest first in ID order, so the id follows each filter
-- column and a page is one index range read backwards.
CREATE INDEX alerts_state ON alerts (state, id);
CREATE INDEX alerts_assignee ON alerts (assignee, id);

-- next is the index of the first entry of log the detector has not seen;
-- it only moves forward, in the transaction that stores what it found.
CREATE TABLE detection_cursors (
    log  text   PRIMARY KEY,
    next bigint NOT NULL CHECK (next >= 0)
);
