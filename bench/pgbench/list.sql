-- GET /api/resources?page=3&limit=20&category=cat-7&sort=name&order=asc
-- (the statement adapters/postgres/resources.py sends: count and page in one)
SELECT t.total, r.* FROM (SELECT coalesce(sum(n), 0)::bigint AS total FROM resource_counts WHERE category = 'cat-7') AS t LEFT JOIN LATERAL (SELECT id, name, description, category, metadata, created_by, created_at, updated_at FROM resources WHERE category = 'cat-7' ORDER BY name ASC, id ASC LIMIT 21 OFFSET 40) AS r ON true;
