-- Floor for the `write` scenario (`addMediaToAlbum` of 10 media): the same batch numbering as
-- bench/wrk/graphql.lua (batch b -> user, album, slot), so each request adds media that are not
-- yet members.
\set b :b0 + :client_id + :nclients * :n
\set n :n + 1
\set usr 1 + :b % :nusers
\set alb 1 + (:b / :nusers) % :nalbums
\set slot (:b / (:nusers * :nalbums)) % :cap
\set first :alb * :lpa + :slot * 10
BEGIN;
-- Lock the album (it must be the user's and active).
SELECT id FROM albums
WHERE id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-a000-' || lpad(to_hex(CAST(:alb AS int)), 12, '0') AS uuid)
  AND user_id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(CAST(:usr AS int)), 8, '0') AS uuid)
  AND deleted_at IS NULL
FOR UPDATE;
-- Append the media that are the user's, active and not yet members, after the last member.
INSERT INTO links (user_id, from_object_id, from_object_type, to_object_id, to_object_type,
                   link_type, sort_order)
SELECT m.user_id, CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-a000-' || lpad(to_hex(CAST(:alb AS int)), 12, '0') AS uuid), 'album',
       m.id, 'media', 'contains',
       coalesce((SELECT max(sort_order) FROM links
                 WHERE from_object_id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-a000-' || lpad(to_hex(CAST(:alb AS int)), 12, '0') AS uuid)
                   AND link_type = 'contains' AND deleted_at IS NULL), 0)
         + 1024 * row_number() OVER (ORDER BY j.j)
FROM generate_series(0, 9) AS j(j)
JOIN media m ON m.id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-8000-' || lpad(to_hex((CAST(:first AS int) + j.j) % CAST(:nmedia AS int) + 1), 12, '0') AS uuid)
 AND m.user_id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(CAST(:usr AS int)), 8, '0') AS uuid)
 AND m.deleted_at IS NULL
ON CONFLICT (from_object_id, to_object_id, link_type) WHERE deleted_at IS NULL DO NOTHING;
-- Recount.
UPDATE albums SET media_count = (
    SELECT count(*) FROM links l JOIN media m ON m.id = l.to_object_id AND m.deleted_at IS NULL
    WHERE l.from_object_id = albums.id AND l.link_type = 'contains' AND l.deleted_at IS NULL)
WHERE id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-a000-' || lpad(to_hex(CAST(:alb AS int)), 12, '0') AS uuid);
END;
