-- The logs every node sharing the store knows (store.LogRegistry): a node
-- checks its keys against them, and readers find the activity log's
-- shards here.
CREATE TABLE log_registry (
    name         text   PRIMARY KEY,
    origin       text   NOT NULL,
    verifier_key text   NOT NULL,
    created      bigint NOT NULL
);
