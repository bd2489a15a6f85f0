-- GET /api/resources/:id
\set id random(1, :maxid)
SELECT id, name, description, category, metadata, created_by, created_at, updated_at FROM resources WHERE id = :id;
