-- Floor for the album page with `variants { id }` on each member: the thumbnails linked
-- `variant_of` to it, smallest first (sort_order is the size), as an array per member.
\set usr random(1, :nusers)
SELECT a.id AS album_id, a.name, m.id, m.filename, m.taken_at,
       ARRAY(SELECT vl.from_object_id
             FROM links vl JOIN media v ON v.id = vl.from_object_id AND v.deleted_at IS NULL
             WHERE vl.to_object_id = m.id AND vl.link_type = 'variant_of' AND vl.deleted_at IS NULL
             ORDER BY vl.sort_order) AS variant_ids
FROM (SELECT id, name, created_at FROM albums
      WHERE user_id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(CAST(:usr AS int)), 8, '0') AS uuid)
        AND deleted_at IS NULL
      ORDER BY created_at DESC, id DESC LIMIT 20) a
LEFT JOIN LATERAL (
    SELECT m.id, m.filename, m.taken_at, l.sort_order, l.id AS link_id
    FROM links l JOIN media m ON m.id = l.to_object_id AND m.deleted_at IS NULL
    WHERE l.from_object_id = a.id AND l.link_type = 'contains' AND l.deleted_at IS NULL
    ORDER BY l.sort_order, l.id LIMIT 50) m ON true
ORDER BY a.created_at DESC, a.id DESC, m.sort_order, m.link_id;
