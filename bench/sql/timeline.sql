-- Floor for the timeline: the 100 newest-taken media of a random user (as library_page) with
-- their thumbnails' ids and widths, smallest first. contentUrl is signed by the server: no floor.
\set usr random(1, :nusers)
SELECT p.id, p.taken_at, v.variant_ids, v.variant_widths
FROM (SELECT id, taken_at FROM media
      WHERE user_id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(CAST(:usr AS int)), 8, '0') AS uuid)
        AND deleted_at IS NULL AND (source_type IS NULL OR source_type <> 'variant')
      ORDER BY taken_at DESC NULLS LAST, id DESC LIMIT 100) p
LEFT JOIN LATERAL (
    SELECT array_agg(v.id ORDER BY vl.sort_order) AS variant_ids,
           array_agg(v.width ORDER BY vl.sort_order) AS variant_widths
    FROM links vl JOIN media v ON v.id = vl.from_object_id AND v.deleted_at IS NULL
    WHERE vl.to_object_id = p.id AND vl.link_type = 'variant_of' AND vl.deleted_at IS NULL) v ON true
ORDER BY p.taken_at DESC NULLS LAST, p.id DESC;
