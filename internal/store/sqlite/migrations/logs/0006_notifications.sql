-- Each person's in-app inbox (store.Notification). Times are Unix
-- nanoseconds, 0 for the zero time, as elsewhere: read_at is 0 while the
-- notification is unread.
--
-- person is checked against people when a notification is added, not by a
-- foreign key: people are never deleted, and the insert says which person
-- was absent (store.ErrNotFound) rather than failing a constraint.
-- kind is unconstrained: the kinds are internal/notify's.
CREATE TABLE notifications (
    id        TEXT    PRIMARY KEY,
    person    TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    request   TEXT    NOT NULL,
    reference TEXT    NOT NULL,
    text      TEXT    NOT NULL,
    created   INTEGER NOT NULL,
    read_at   INTEGER NOT NULL -- 0 while unread
) WITHOUT ROWID;
-- A person's inbox, newest first, is one index range read backwards.
CREATE INDEX notifications_person ON notifications (person, created, id);
-- The unread count on every page, and the unread listing, read only the
-- few unread rows.
CREATE INDEX notifications_unread ON notifications (person, created, id) WHERE read_at = 0;
