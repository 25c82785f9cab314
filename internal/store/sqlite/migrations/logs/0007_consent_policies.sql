-- The consent-level policy's approved versions (store.ConsentPolicyVersion).
-- Times are Unix nanoseconds, as elsewhere. A version is added only by the
-- approval of a "consent_policy" change, in the decision's transaction, and
-- is never changed or removed: the policy any request was judged under can
-- always be read back.

-- policy is NULL when empty, and reads back nil.
CREATE TABLE consent_policy_versions (
    version     INTEGER PRIMARY KEY CHECK (version >= 1),
    policy      BLOB,
    created     INTEGER NOT NULL,
    change_id   TEXT    NOT NULL, -- the change that approved it
    approved_by TEXT    NOT NULL
);
