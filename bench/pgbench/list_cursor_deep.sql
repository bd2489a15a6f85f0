-- GET /api/resources?limit=20&cursor=<page 500>: keyset after row :deep_id
SELECT id, name, description, category, metadata, created_by, created_at, updated_at FROM resources WHERE (created_at, id) < ((SELECT created_at FROM resources WHERE id = :deep_id), :deep_id) ORDER BY created_at DESC, id DESC LIMIT 21;
SELECT coalesce(sum(n), 0)::bigint FROM resource_counts;
