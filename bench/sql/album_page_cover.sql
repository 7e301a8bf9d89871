-- Floor for the album page with `coverMedia { id }` on each album: the chosen cover if it is
-- the user's and not in the trash, else the first active member in album order (once per album).
\set usr random(1, :nusers)
SELECT a.id AS album_id, a.name, a.cover_id, m.id, m.filename, m.taken_at
FROM (SELECT id, name, created_at, coalesce(
          (SELECT c.id FROM media c
           WHERE c.id = albums.cover_media_id AND c.user_id = albums.user_id AND c.deleted_at IS NULL),
          (SELECT l.to_object_id FROM links l JOIN media f ON f.id = l.to_object_id AND f.deleted_at IS NULL
           WHERE l.from_object_id = albums.id AND l.link_type = 'contains' AND l.deleted_at IS NULL
           ORDER BY l.sort_order, l.id LIMIT 1)) AS cover_id
      FROM albums
      WHERE user_id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(CAST(:usr AS int)), 8, '0') AS uuid)
        AND deleted_at IS NULL
      ORDER BY created_at DESC, id DESC LIMIT 20) a
LEFT JOIN LATERAL (
    SELECT m.id, m.filename, m.taken_at, l.sort_order, l.id AS link_id
    FROM links l JOIN media m ON m.id = l.to_object_id AND m.deleted_at IS NULL
    WHERE l.from_object_id = a.id AND l.link_type = 'contains' AND l.deleted_at IS NULL
    ORDER BY l.sort_order, l.id LIMIT 50) m ON true
ORDER BY a.created_at DESC, a.id DESC, m.sort_order, m.link_id;
