-- An album page reads each album's first members in order. With the link id (the order's
-- tie-break) in the key and the member's id included, that read is an index-only range scan
-- that stops at the page size, instead of one heap fetch per link. The index keeps its name
-- and serves every query the narrower one served.
DROP INDEX idx_links_from;
CREATE INDEX idx_links_from ON links (from_object_id, link_type, sort_order, id)
    INCLUDE (to_object_id) WHERE deleted_at IS NULL;
