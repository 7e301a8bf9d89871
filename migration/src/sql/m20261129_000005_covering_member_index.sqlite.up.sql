-- An album page reads each album's first members in order. With the link id (the order's
-- tie-break) and the member's id in the index, that read is covered by the index and stops at
-- the page size. The index keeps its name and serves every query the narrower one served.
DROP INDEX idx_links_from;
CREATE INDEX idx_links_from ON links (from_object_id, link_type, sort_order, id, to_object_id)
    WHERE deleted_at IS NULL;
