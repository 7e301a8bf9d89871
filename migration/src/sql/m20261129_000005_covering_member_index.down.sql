DROP INDEX idx_links_from;
CREATE INDEX idx_links_from ON links (from_object_id, link_type, sort_order) WHERE deleted_at IS NULL;
