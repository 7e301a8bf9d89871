-- Floor for the deep page: the same 100 rows after a keyset cursor (taken_at, id) that sits
-- `deep` rows in; the cursors live in bench_deep_cursor (filled by bench/run).
\set usr random(1, :ndeep)
SELECT m.id, m.filename, m.taken_at
FROM bench_deep_cursor c
JOIN LATERAL (
    SELECT id, filename, taken_at FROM media
    WHERE user_id = c.user_id AND deleted_at IS NULL AND (source_type IS NULL OR source_type <> 'variant')
      AND (taken_at, id) < (c.taken_at, c.media_id)
    ORDER BY taken_at DESC NULLS LAST, id DESC LIMIT 100) m ON true
WHERE c.user_id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(CAST(:usr AS int)), 8, '0') AS uuid)
ORDER BY m.taken_at DESC, m.id DESC;
