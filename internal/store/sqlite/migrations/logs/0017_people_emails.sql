-- People's names on other systems (store.Person.Emails and Username), by
-- which captured messages name them. emails holds the addresses
-- space-separated, as roles holds roles; '' for none.
ALTER TABLE people ADD COLUMN emails   TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN username TEXT NOT NULL DEFAULT '';

-- Every e-mail address and username, once, with who holds it: the primary
-- key makes an ambiguous name impossible to store, and PutPeople's check
-- that a batch takes no one else's name an index lookup per name rather
-- than a scan of the directory. PutPeople and DecideChange keep it in step
-- with people.emails and people.username in the same transaction.
CREATE TABLE people_keys (
    kind   TEXT NOT NULL CHECK (kind IN ('email', 'username')),
    key    TEXT NOT NULL,
    person TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX people_keys_person ON people_keys (person);
