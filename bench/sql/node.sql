-- Floor for `node(id)`: one media of a random user by primary key.
\set usr random(1, :nusers)
\set med random(1, :nmedia)
SELECT id, filename, taken_at FROM media
WHERE id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(CAST(:med AS int)), 12, '0') AS uuid)
  AND user_id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(CAST(:usr AS int)), 8, '0') AS uuid)
  AND deleted_at IS NULL;
