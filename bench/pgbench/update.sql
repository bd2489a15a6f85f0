-- PUT /api/resources/:id  (TO SYNC: keygate may read the row first for ETag / ownership)
\set id random(1, :maxid)
SELECT * FROM quota_take('key:1', 100000000, NULL);
UPDATE resources SET name = 'pgbench update', description = 'written by the pgbench update script', category = 'cat-5', metadata = '{"source": "pgbench"}', updated_at = now() WHERE id = :id RETURNING id, name, description, category, metadata, created_by, created_at, updated_at;
