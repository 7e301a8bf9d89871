-- Floor for `traverse(via: ["similar_to"], direction: BOTH, maxDepth: 3, first: 100)`:
-- every node once at its shallowest depth (depth, id order), the first 100, and the total.
\set usr random(1, :nusers)
\set med random(1, :nmedia)
WITH RECURSIVE walk(node, depth) AS (
    SELECT CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(CAST(:med AS int)), 12, '0') AS uuid), 0
    UNION
    SELECT CASE WHEN l.from_object_id = w.node THEN l.to_object_id ELSE l.from_object_id END, w.depth + 1
    FROM walk w JOIN links l ON (l.from_object_id = w.node OR l.to_object_id = w.node)
    WHERE w.depth < 3 AND l.link_type = 'similar_to' AND l.deleted_at IS NULL
      AND l.user_id = CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-9000-0000' || lpad(to_hex(CAST(:usr AS int)), 8, '0') AS uuid)
      AND EXISTS (SELECT 1 FROM media x WHERE x.deleted_at IS NULL
                  AND x.id = CASE WHEN l.from_object_id = w.node THEN l.to_object_id ELSE l.from_object_id END)
), reached AS (
    SELECT node, min(depth) AS depth FROM walk
    WHERE node <> CAST(lpad(to_hex(CAST(:usr AS int)), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(CAST(:med AS int)), 12, '0') AS uuid)
    GROUP BY node
)
SELECT node, depth, count(*) OVER () AS total FROM reached ORDER BY depth, node LIMIT 100;
