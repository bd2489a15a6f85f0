-- GET /api/resources?search=cloud&limit=20
SELECT * FROM quota_take('key:1', 100000000, NULL);
SELECT id, name, description, category, metadata, created_by, created_at, updated_at FROM resources WHERE search_text LIKE lower('%cloud%') ORDER BY created_at DESC, id DESC LIMIT 21;
SELECT count(*) FROM resources WHERE search_text LIKE lower('%cloud%');
