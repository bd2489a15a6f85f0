-- GET /api/resources?page=3&limit=20&category=cat-7&sort=name&order=asc  (TO SYNC)
SELECT * FROM quota_take('key:1', 100000000, NULL);
SELECT id, name, description, category, metadata, created_by, created_at, updated_at FROM resources WHERE category = 'cat-7' ORDER BY name ASC, id ASC LIMIT 21 OFFSET 40;
SELECT count(*) FROM resources WHERE category = 'cat-7';
