-- Each person's in-app inbox (store.Notification). Times are Unix
-- nanoseconds in bigint, 0 for the zero time, as elsewhere: read_at is 0
-- while the notification is unread.
--
-- Ids are COLLATE "C", as people's are: notifications made at one instant
-- are ordered by the bytes of their IDs, as on SQLite, and person joins
-- people.id. person is checked against people when a notification is
-- added, not by a foreign key, as on SQLite. kind is unconstrained: the
-- kinds are internal/notify's.
CREATE TABLE notifications (
    id        text   COLLATE "C" PRIMARY KEY,
    person    text   COLLATE "C" NOT NULL,
    kind      text   NOT NULL,
    request   text   COLLATE "C" NOT NULL,
    reference text   COLLATE "C" NOT NULL,
    text      text   NOT NULL,
    created   bigint NOT NULL,
    read_at   bigint NOT NULL -- 0 while unread
);
-- A person's inbox, newest first, is one index range read backwards.
CREATE INDEX notifications_person ON notifications (person, created, id);
-- The unread count on every page, and the unread listing, read only the
-- few unread rows.
CREATE INDEX notifications_unread ON notifications (person, created, id) WHERE read_at = 0;
