-- PUT /api/resources/:id without If-Match: ReplaceResource's one statement in
-- autocommit (adapters/postgres/resources.py UPDATE_OWNED; migration
-- 0010's trigger writes the webhook event when anyone subscribes).
\set id random(1, :maxid)
UPDATE resources SET name = 'pgbench update', description = 'written by the pgbench update script', category = 'cat-5', metadata = '{"source": "pgbench"}', updated_at = greatest(clock_timestamp(), updated_at + interval '1 microsecond') WHERE id = :id AND ('bench'::text IS NULL OR created_by = 'bench') RETURNING id, name, description, category, metadata, created_by, created_at, updated_at;
