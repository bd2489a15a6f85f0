-- POST /api/resources: CreateResource's one statement in autocommit (adapters/postgres/resources.py INSERT; migration 0010's trigger writes
-- the webhook event when anyone subscribes).
INSERT INTO resources (name, description, category, metadata, created_by) VALUES ('pgbench item', 'written by the pgbench create script', 'cat-3', '{"source": "pgbench", "n": 1}', 'bench') RETURNING id, name, description, category, metadata, created_by, created_at, updated_at;
