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
-- every tenth link (j % 10 = 3) is soft-deleted, so deleted members are interleaved.
INSERT INTO links (id, user_id, from_object_id, from_object_type, to_object_id, to_object_type,
                   link_type, strength, sort_order, created_at, updated_at, deleted_at)
SELECT CAST(md5('contains:' || u || ':' || a || ':' || j) AS uuid),
       CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(u), 8, '0') AS uuid),
       CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-a000-' || lpad(to_hex(a), 12, '0') AS uuid), 'album',
       CAST(lpad(to_hex(u), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(((a - 1) * :links_per_album + j - 1) % :media + 1), 12, '0') AS uuid), 'media',
       'contains', 1.0, j * 1024,
       timestamptz '2024-07-01', timestamptz '2024-07-01',
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

COMMIT;
-- Vacuum and analyze now, so that autovacuum does not run (and count as PostgreSQL CPU)
-- during the timed runs, and flush the seed's dirty pages.
VACUUM ANALYZE;
CHECKPOINT;
