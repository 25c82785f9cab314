-- Handling subject access requests (store.SubjectAccessRequest,
-- internal/subjectaccess). due is when the answer is due, Unix
-- nanoseconds, 0 for requests stored before it was kept (the service
-- computes theirs from made); body is the handling as JSON, NULL while
-- nobody has acted; export is the answer given to the person, NULL until
-- then. version guards every update (compare-and-swap).
ALTER TABLE subject_access_requests ADD COLUMN due INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subject_access_requests ADD COLUMN body BLOB;
ALTER TABLE subject_access_requests ADD COLUMN export BLOB;
ALTER TABLE subject_access_requests ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
