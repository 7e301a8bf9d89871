DROP INDEX idx_links_to;
CREATE INDEX idx_links_to ON links (to_object_id, link_type) WHERE deleted_at IS NULL;
