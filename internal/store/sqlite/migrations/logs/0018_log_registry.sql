-- The logs every process sharing the store knows (store.LogRegistry): a
-- node checks its keys against them, and readers find the activity log's
-- shards here.
CREATE TABLE log_registry (
    name         TEXT    PRIMARY KEY,
    origin       TEXT    NOT NULL,
    verifier_key TEXT    NOT NULL,
    created      INTEGER NOT NULL
) WITHOUT ROWID;
