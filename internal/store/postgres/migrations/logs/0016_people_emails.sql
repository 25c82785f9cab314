-- People's names on other systems (store.Person.Emails and Username), as
-- in the SQLite engine's 0017: emails holds the addresses space-separated,
-- as roles holds roles; '' for none. COLLATE "C", so that ILIKE folds
-- ASCII case only, as for the other searched columns.
ALTER TABLE people
    ADD COLUMN emails   text COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN username text COLLATE "C" NOT NULL DEFAULT '';

-- Every e-mail address and username, once, with who holds it: the primary
-- key makes an ambiguous name impossible to store, even by two puts
-- committing at once, and PutPeople's check an index lookup per name.
-- PutPeople and DecideChange keep it in step with people.emails and
-- people.username in the same transaction.
CREATE TABLE people_keys (
    kind   text NOT NULL CHECK (kind IN ('email', 'username')),
    key    text COLLATE "C" NOT NULL,
    person text COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX people_keys_person ON people_keys (person);
