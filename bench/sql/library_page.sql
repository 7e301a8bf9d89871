-- Floor for the library page: 100 newest-taken media of a random user.
\set usr random(1, :nusers)
SELECT id, filename, taken_at FROM media
WHERE user_id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(CAST(:usr AS int)), 8, '0') AS uuid)
  AND deleted_at IS NULL AND (source_type IS NULL OR source_type <> 'variant')
ORDER BY taken_at DESC NULLS LAST, id DESC LIMIT 100;
