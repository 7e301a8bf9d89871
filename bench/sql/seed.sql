-- Deterministic seed for the benchmark. psql variables: users, media (per user),
-- albums (per user), links_per_album, pw_hash (an argon2id PHC string every user shares).
--
-- Ids are derived from integers so that wrk (Lua) and pgbench can compute them:
--   user  u       : uuuuuuuu-0000-4000-9000-0000uuuuuuuu (the tail differs per user, as in
--                   random ids: PostgreSQL advisory locks are keyed on it)
--   media (u, k)  : uuuuuuuu-0000-4000-8000-kkkkkkkkkkkk
--   album (u, a)  : uuuuuuuu-0000-4000-a000-aaaaaaaaaaaa
-- (u, k, a in lower-case hex, zero padded).
\set ON_ERROR_STOP on
BEGIN;

INSERT INTO users (id, email, password_hash, display_name, created_at, updated_at)
SELECT CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(u), 8, '0') AS uuid),
       'user' || u || '@bench.local', :'pw_hash', 'Bench user ' || u,
       timestamptz '2024-01-01', timestamptz '2024-01-01'
FROM generate_series(1, :users) u;

-- Media: distinct hashes (md5 of the id, twice = 64 hex chars), taken_at scattered over
-- ten years by a multiplicative hash of k so that "newest taken first" is not id order.
INSERT INTO media (id, user_id, filename, media_type, mime_type, size, width, height,
                   file_path, hash, taken_at, metadata, created_at, updated_at)
SELECT x.mid, x.uid, 'IMG_' || lpad(k::text, 6, '0') || '.jpg', 'photo', 'image/jpeg',
       1000000 + (k * 7919) % 4000000, 4032, 3024,
       'bench/' || u || '/' || k || '.jpg', repeat(md5(x.mid::text), 2),
       timestamptz '2015-01-01' + ((k::bigint * 2654435761) % 315360000) * interval '1 second',
       '{}'::jsonb, x.ts, x.ts
FROM generate_series(1, :users) u
CROSS JOIN generate_series(1, :media) k
CROSS JOIN LATERAL (
    SELECT CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(k), 12, '0') AS uuid) AS mid,
           CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(u), 8, '0') AS uuid) AS uid,
           timestamptz '2024-01-01' + k * interval '1 second' AS ts
) x;

-- Albums: created an hour apart, so "newest first" is album number descending.
INSERT INTO albums (id, user_id, name, created_at, updated_at)
SELECT CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-a000-' || lpad(to_hex(a), 12, '0') AS uuid),
       CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(u), 8, '0') AS uuid),
       'Album ' || a,
       timestamptz '2024-06-01' + a * interval '1 hour',
       timestamptz '2024-06-01' + a * interval '1 hour'
FROM generate_series(1, :users) u CROSS JOIN generate_series(1, :albums) a;

-- Album membership: album a holds media ((a-1)*L + j - 1) % M + 1 for j = 1..L, in j order;
-- every tenth link (j % 10 = 3) is soft-deleted, so deleted members are interleaved. Members
-- were added a minute apart, albums a day apart (`addedAt` is the link's created_at).
INSERT INTO links (id, user_id, from_object_id, from_object_type, to_object_id, to_object_type,
                   link_type, strength, sort_order, created_at, updated_at, deleted_at)
SELECT CAST(md5('contains:' || u || ':' || a || ':' || j) AS uuid),
       CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(u), 8, '0') AS uuid),
       CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-a000-' || lpad(to_hex(a), 12, '0') AS uuid), 'album',
       CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(((a - 1) * :links_per_album + j - 1) % :media + 1), 12, '0') AS uuid), 'media',
       'contains', 1.0, j * 1024,
       timestamptz '2024-07-01' + a * interval '1 day' + j * interval '1 minute',
       timestamptz '2024-07-01' + a * interval '1 day' + j * interval '1 minute',
       CASE WHEN j % 10 = 3 THEN timestamptz '2024-08-01' END
FROM generate_series(1, :users) u
CROSS JOIN generate_series(1, :albums) a
CROSS JOIN generate_series(1, :links_per_album) j;

-- similar_to: media k -> k+1 and k -> k+17 (mod M), a sparse graph for `traverse`.
INSERT INTO links (id, user_id, from_object_id, from_object_type, to_object_id, to_object_type,
                   link_type, strength, sort_order, created_at, updated_at)
SELECT CAST(md5('similar:' || u || ':' || k || ':' || d) AS uuid),
       CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(u), 8, '0') AS uuid),
       CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(k), 12, '0') AS uuid), 'media',
       CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-8000-' || lpad(to_hex((k - 1 + d) % :media + 1), 12, '0') AS uuid), 'media',
       'similar_to', 0.5, 0,
       timestamptz '2024-07-01', timestamptz '2024-07-01'
FROM generate_series(1, :users) u
CROSS JOIN generate_series(1, :media) k
CROSS JOIN (VALUES (1), (17)) AS dd(d);

-- albums.media_count = active members whose media is not deleted.
UPDATE albums a SET media_count = c.n
FROM (SELECT l.from_object_id AS album_id, count(*) AS n
      FROM links l JOIN media m ON m.id = l.to_object_id AND m.deleted_at IS NULL
      WHERE l.link_type = 'contains' AND l.deleted_at IS NULL
      GROUP BY l.from_object_id) c
WHERE a.id = c.album_id;

UPDATE users u SET storage_used = s.bytes
FROM (SELECT user_id, sum(size) AS bytes FROM media GROUP BY user_id) s
WHERE u.id = s.user_id;

-- Thumbnails, as the thumbnail worker makes them (src/service/variants.rs,
-- store::links::insert_variant_link): per size s (256, 1024) a JPEG `media` row with
-- source_type 'variant', source_id the original's id, the original's taken_at and metadata
-- {"variant": s}, linked `variant_of` from the variant to the original with sort_order s and
-- metadata {"size": s}. They are not library items, and not counted in storage_used (set
-- above). Photos that have them: the first 100 members of every album (its first pages) and
-- each user's newest-taken tenth, at least 100 (the start of every timeline); the rest of the
-- library has none yet, as when the worker is still catching up after an import.
-- Variant (u, k, s): uuuuuuuu-ssss-4000-8000-kkkkkkkkkkkk, ssss = s in hex (0100, 0400).
INSERT INTO media (id, user_id, filename, media_type, mime_type, size, width, height,
                   file_path, hash, taken_at, source_type, source_id, metadata,
                   created_at, updated_at)
SELECT v.vid, o.user_id, replace(o.filename, '.jpg', '-' || s || '.jpg'), 'photo', 'image/jpeg',
       s * s / 4 + (o.size % 5000), s, s * 3 / 4,
       'sha256/' || substr(v.hash, 1, 2) || '/' || substr(v.hash, 3, 2) || '/' || v.hash, v.hash,
       o.taken_at, 'variant', o.id::text, jsonb_build_object('variant', s),
       o.created_at + interval '1 minute', o.created_at + interval '1 minute'
FROM media o
CROSS JOIN (VALUES (256), (1024)) AS sizes(s)
CROSS JOIN LATERAL (
    SELECT CAST(overlay(o.id::text PLACING lpad(to_hex(s), 4, '0') FROM 10 FOR 4) AS uuid) AS vid
) x
CROSS JOIN LATERAL (SELECT x.vid, repeat(md5('variant:' || x.vid::text), 2) AS hash) v
WHERE o.deleted_at IS NULL AND o.source_type IS NULL
  AND (o.id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY user_id
                                    ORDER BY taken_at DESC NULLS LAST, id DESC) AS n FROM media) t
                 WHERE n <= greatest(100, :media / 10))
       OR EXISTS (SELECT 1 FROM links l WHERE l.to_object_id = o.id AND l.link_type = 'contains'
                  AND l.sort_order <= 100 * 1024));

INSERT INTO links (id, user_id, from_object_id, from_object_type, to_object_id, to_object_type,
                   link_type, strength, sort_order, metadata, created_at, updated_at)
SELECT CAST(md5('variant_of:' || v.id::text) AS uuid), v.user_id, v.id, 'media',
       CAST(v.source_id AS uuid), 'media', 'variant_of', 1.0, CAST(v.metadata ->> 'variant' AS int),
       jsonb_build_object('size', CAST(v.metadata ->> 'variant' AS int)), v.created_at, v.created_at
FROM media v WHERE v.source_type = 'variant';

-- One photo per user in the trash (k = M + 1), for the covers below; no album holds it.
INSERT INTO media (id, user_id, filename, media_type, mime_type, size, width, height,
                   file_path, hash, taken_at, metadata, created_at, updated_at, deleted_at)
SELECT CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(:media + 1), 12, '0') AS uuid),
       CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(u), 8, '0') AS uuid),
       'IMG_TRASHED.jpg', 'photo', 'image/jpeg', 1000000, 4032, 3024, 'bench/' || u || '/trashed.jpg',
       repeat(md5('trashed:' || u), 2), timestamptz '2020-01-01', '{}'::jsonb,
       timestamptz '2024-01-01', timestamptz '2024-09-01', timestamptz '2024-09-01'
FROM generate_series(1, :users) u;

-- Covers: album a % 3 = 1 has its fifth member (an active one) as its chosen cover; a % 3 = 2
-- chose the photo now in the trash, so its cover falls back to the first member, as for the
-- albums without a chosen cover (a % 3 = 0).
UPDATE albums SET cover_media_id = CAST(
    substr(id::text, 1, 8) || '-0000-4000-8000-' || lpad(to_hex(CASE WHEN a.n % 3 = 1
        THEN ((a.n - 1) * :links_per_album + 4) % :media + 1 ELSE :media + 1 END), 12, '0') AS uuid)
FROM (SELECT id AS album_id, CAST(('x' || right(id::text, 8)) AS bit(32))::int AS n FROM albums) a
WHERE albums.id = a.album_id AND a.n % 3 <> 0;

COMMIT;
-- Vacuum and analyze now, so that autovacuum does not run (and count as PostgreSQL CPU)
-- during the timed runs, and flush the seed's dirty pages.
VACUUM ANALYZE;
CHECKPOINT;
