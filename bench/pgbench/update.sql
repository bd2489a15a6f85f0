-- PUT /api/resources/:id: the quota statement, then the unit of work of ReplaceResource
-- (row locked and checked for owner and If-Match, updated, outbox row).
\set id random(1, :maxid)
SELECT * FROM quota_take('key:1', 100000000, NULL);
BEGIN;
SELECT id, name, description, category, metadata, created_by, created_at, updated_at FROM resources WHERE id = :id FOR UPDATE;
UPDATE resources SET name = 'pgbench update', description = 'written by the pgbench update script', category = 'cat-5', metadata = '{"source": "pgbench"}', updated_at = greatest(clock_timestamp(), updated_at + interval '1 microsecond') WHERE id = :id RETURNING id, name, description, category, metadata, created_by, created_at, updated_at;
WITH subscribers AS (SELECT id FROM webhooks WHERE is_active AND event_types @> ARRAY['resource.updated']::text[]), event AS (INSERT INTO webhook_events (event_type, data) SELECT 'resource.updated', '{"id": 1}' WHERE EXISTS (SELECT 1 FROM subscribers) RETURNING id) INSERT INTO webhook_deliveries (webhook_id, event_id, message_id) SELECT s.id, event.id, 'msg_' || replace(gen_random_uuid()::text, '-', '') FROM event CROSS JOIN subscribers s;
COMMIT;
