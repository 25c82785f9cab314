-- Blinded search terms of content (internal/search), space-separated: keyed
-- hashes under the entry's data key, meaningless once that key is destroyed.
-- Review searches one subject in a time range, so the (subject, time) index
-- narrows a search to that person's entries before any term is compared.
ALTER TABLE entries ADD COLUMN terms TEXT;
CREATE INDEX entries_subject_time ON entries (subject, time);
