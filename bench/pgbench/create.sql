-- POST /api/resources: the quota statement, then the unit of work of CreateResource
-- (adapters/postgres/resources.py INSERT, adapters/postgres/webhooks.py RECORD_EVENT).
SELECT * FROM quota_take('key:1', 100000000, NULL);
BEGIN;
INSERT INTO resources (name, description, category, metadata, created_by) VALUES ('pgbench item', 'written by the pgbench create script', 'cat-3', '{"source": "pgbench", "n": 1}', 'bench') RETURNING id, name, description, category, metadata, created_by, created_at, updated_at;
WITH subscribers AS (SELECT id FROM webhooks WHERE is_active AND event_types @> ARRAY['resource.created']::text[]), event AS (INSERT INTO webhook_events (event_type, data) SELECT 'resource.created', '{"id": 1}' WHERE EXISTS (SELECT 1 FROM subscribers) RETURNING id) INSERT INTO webhook_deliveries (webhook_id, event_id, message_id) SELECT s.id, event.id, 'msg_' || replace(gen_random_uuid()::text, '-', '') FROM event CROSS JOIN subscribers s;
COMMIT;
