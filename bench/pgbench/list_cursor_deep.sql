-- GET /api/resources?limit=20&cursor=<page 500>: keyset after row :deep_id  (TO SYNC)
SELECT * FROM quota_take('key:1', 100000000, NULL);
SELECT id, name, description, category, metadata, created_by, created_at, updated_at FROM resources WHERE (created_at, id) < ((SELECT created_at FROM resources WHERE id = :deep_id), :deep_id) ORDER BY created_at DESC, id DESC LIMIT 21;
SELECT count(*) FROM resources;
