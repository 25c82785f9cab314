-- The DPO's legal holds (store.Hold). Times are Unix nanoseconds, 0 for
-- the zero time, as elsewhere: released is 0 while the hold is in force.

-- Holds are never deleted: a released hold keeps who released it and
-- why. person is not a foreign key: the service checks the directory
-- when a hold is placed, and a hold must outlive anything done to the
-- person's entry.
CREATE TABLE holds (
    id           TEXT    PRIMARY KEY,
    person       TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    placed_by    TEXT    NOT NULL,
    placed       INTEGER NOT NULL,
    released     INTEGER NOT NULL,
    released_by  TEXT    NOT NULL,
    release_note TEXT    NOT NULL
) WITHOUT ROWID;
-- Listings are newest first; retention asks whether a person is held.
CREATE INDEX holds_placed ON holds (placed, id);
CREATE INDEX holds_person ON holds (person, released);
