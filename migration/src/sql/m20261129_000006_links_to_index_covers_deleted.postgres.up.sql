-- Thumbnail jobs, deletes, restores and purges look up an original's variants by
-- `to_object_id`, trashed links included. The partial index (active links only) could not serve
-- that, and every such lookup read the whole links table: 0.3 s per thumbnail job on the
-- benchmark's 700,000 links. The index keeps its name and now covers every link; queries on
-- active links use it as before, with `deleted_at IS NULL` as a filter.
DROP INDEX idx_links_to;
CREATE INDEX idx_links_to ON links (to_object_id, link_type);
