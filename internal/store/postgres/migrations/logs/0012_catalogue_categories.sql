-- The catalogue carries a fourth file, categories.yaml: the data categories
-- and their retention schedule, edited under the same dual control as the
-- purposes (store.CatalogueVersion.Categories). A version approved before
-- this migration has none (NULL), which means the categories built into
-- lbm, the ones in force when it was approved.
ALTER TABLE catalogue_versions ADD COLUMN categories bytea;
