-- SQL functions (and a smart tag) that PostGraphile v5 exposes for the benchmark, created by
-- bench/run in the bench database only. A function of a table row is a computed column:
-- `albums_media` becomes `Album.media`.
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

-- An album's active member links in album order (`Album.memberLinks`), each with its media
-- (`Link.media`), so that a member's `createdAt` (Hypernet's `addedAt`) can be selected.
CREATE OR REPLACE FUNCTION albums_member_links(a albums) RETURNS SETOF links
LANGUAGE sql STABLE AS $$
    SELECT l.* FROM links l JOIN media m ON m.id = l.to_object_id AND m.deleted_at IS NULL
    WHERE l.from_object_id = a.id AND l.link_type = 'contains' AND l.deleted_at IS NULL
    ORDER BY l.sort_order, l.id
$$;
-- `Link.media` is a relation declared by a smart tag (links.to_object_id has no foreign key: its
-- target's kind varies), which PostGraphile joins. A function returning one row would do too,
-- but PostgreSQL does not inline such a function, and runs it once per member (3x slower).
COMMENT ON TABLE links IS E'@foreignKey (to_object_id) references media (id)|@fieldName media';

-- A media's thumbnails, smallest first (`Media.variants`), a plain list as in Hypernet.
CREATE OR REPLACE FUNCTION media_variants(m media) RETURNS SETOF media
LANGUAGE sql STABLE AS $$
    SELECT v.* FROM links l JOIN media v ON v.id = l.from_object_id AND v.deleted_at IS NULL
    WHERE l.to_object_id = m.id AND l.link_type = 'variant_of' AND l.deleted_at IS NULL
    ORDER BY l.sort_order
$$;
COMMENT ON FUNCTION media_variants(media) IS E'@behavior -connection +list';

-- The album's cover (`Album.coverMedia`): the chosen media if it is the user's and not in the
-- trash, else the first active member in album order.
CREATE OR REPLACE FUNCTION albums_cover_media(a albums) RETURNS media
LANGUAGE sql STABLE AS $$
    SELECT * FROM media WHERE id = coalesce(
        (SELECT c.id FROM media c
         WHERE c.id = a.cover_media_id AND c.user_id = a.user_id AND c.deleted_at IS NULL),
        (SELECT l.to_object_id FROM links l JOIN media f ON f.id = l.to_object_id AND f.deleted_at IS NULL
         WHERE l.from_object_id = a.id AND l.link_type = 'contains' AND l.deleted_at IS NULL
         ORDER BY l.sort_order, l.id LIMIT 1))
$$;
