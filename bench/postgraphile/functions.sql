-- SQL functions PostGraphile v5 exposes for the benchmark (created by bench/run in the bench
-- database only). `albums_media` becomes the computed column `Album.media`.
CREATE OR REPLACE FUNCTION albums_media(a albums) RETURNS SETOF media
LANGUAGE sql STABLE AS $$
    SELECT m.* FROM links l JOIN media m ON m.id = l.to_object_id AND m.deleted_at IS NULL
    WHERE l.from_object_id = a.id AND l.link_type = 'contains' AND l.deleted_at IS NULL
    ORDER BY l.sort_order, l.id
$$;

-- The viewer's albums, newest first (the user id stands in for Hypernet's bearer token).
CREATE OR REPLACE FUNCTION viewer_albums(uid uuid) RETURNS SETOF albums
LANGUAGE sql STABLE AS $$
    SELECT * FROM albums WHERE user_id = uid AND deleted_at IS NULL ORDER BY created_at DESC, id DESC
$$;

-- The viewer's library, newest taken first (PostGraphile pages it with LIMIT/OFFSET).
CREATE OR REPLACE FUNCTION viewer_media(uid uuid) RETURNS SETOF media
LANGUAGE sql STABLE AS $$
    SELECT * FROM media
    WHERE user_id = uid AND deleted_at IS NULL AND (source_type IS NULL OR source_type <> 'variant')
    ORDER BY taken_at DESC NULLS LAST, id DESC
$$;
