-- Detection: the approved versions of the rules (store.RuleSetVersion),
-- the alerts the rules raise (store.StoredAlert), and how far the detector
-- has read each log. Times are Unix nanoseconds, 0 for the zero time, as
-- elsewhere.

-- A version is added only by the approval of a "rules" change, in the
-- decision's transaction, and is never changed or removed, as a consent
-- policy version is: the rules behind any alert can always be read back.
-- rules is NULL when empty, and reads back nil.
CREATE TABLE rule_set_versions (
    version     INTEGER PRIMARY KEY CHECK (version >= 1),
    rules       BLOB,
    created     INTEGER NOT NULL,
    change_id   TEXT    NOT NULL, -- the change that approved it
    approved_by TEXT    NOT NULL
);

-- state and severity are unconstrained: they are internal/alerts', and
-- SQLite cannot alter a CHECK in place when they change. dedup is unique
-- so that a detector replaying the log after a restart stores each alert
-- once: AddAlerts skips a row that meets it. subject has no index: the
-- store never lists alerts by the person they are about.
CREATE TABLE alerts (
    id         TEXT    PRIMARY KEY,
    rule       TEXT    NOT NULL,
    severity   TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    pseudonym  TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    assignee   TEXT    NOT NULL, -- '' when unassigned
    event_time INTEGER NOT NULL, -- of the event that fired it
    created    INTEGER NOT NULL,
    updated    INTEGER NOT NULL,
    dedup      TEXT    NOT NULL UNIQUE,
    body       BLOB,             -- the alert as JSON; NULL when empty
    version    INTEGER NOT NULL CHECK (version >= 1)
) WITHOUT ROWID;
-- Listings page newest first in ID order, so the id follows each filter
-- column and a page is one index range read backwards.
CREATE INDEX alerts_state ON alerts (state, id);
CREATE INDEX alerts_assignee ON alerts (assignee, id);

-- next is the index of the first entry of log the detector has not seen;
-- it only moves forward, in the transaction that stores what it found.
CREATE TABLE detection_cursors (
    log  TEXT    PRIMARY KEY,
    next INTEGER NOT NULL CHECK (next >= 0)
) WITHOUT ROWID;
