-- The consent-level policy's approved versions (store.ConsentPolicyVersion).
-- Times are Unix nanoseconds in bigint, as elsewhere. A version is added
-- only by the approval of a "consent_policy" change, in the decision's
-- transaction, and is never changed or removed: the policy any request was
-- judged under can always be read back.

-- policy is NULL when empty, and reads back nil.
CREATE TABLE consent_policy_versions (
    version     bigint PRIMARY KEY CHECK (version >= 1),
    policy      bytea,
    created     bigint NOT NULL,
    change_id   text   NOT NULL, -- the change that approved it
    approved_by text   NOT NULL
);
