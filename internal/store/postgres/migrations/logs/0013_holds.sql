-- The DPO's legal holds (store.Hold). Times are Unix nanoseconds in
-- bigint, 0 for the zero time, as elsewhere: released is 0 while the hold
-- is in force.

-- Ids are COLLATE "C", as requests' are, so that ties on placed order
-- byte by byte as on SQLite. Holds are never deleted: a released hold
-- keeps who released it and why. person is not a foreign key, as on
-- SQLite: the service checks the directory when a hold is placed.
CREATE TABLE holds (
    id           text   COLLATE "C" PRIMARY KEY,
    person       text   COLLATE "C" NOT NULL,
    reason       text   NOT NULL,
    placed_by    text   NOT NULL,
    placed       bigint NOT NULL,
    released     bigint NOT NULL,
    released_by  text   NOT NULL,
    release_note text   NOT NULL
);
-- Listings are newest first; retention asks whether a person is held.
CREATE INDEX holds_placed ON holds (placed, id);
CREATE INDEX holds_person ON holds (person, released);
