-- GET /api/resources?search=cloud&limit=20 in the default count mode (estimated): the
-- first 1,001 matches counted, the planner's figure above that, and the page, in one
-- statement (docs/list-statements.md, search=plain count=estimated).
SELECT t.total, t.estimated, r.* FROM (SELECT CASE WHEN c.n > 1000 THEN greatest(c.n, resources_planned_rows('%cloud%', NULL, false)) ELSE c.n END AS total, c.n > 1000 AS estimated FROM (SELECT count(*) AS n FROM (SELECT 1 FROM resources WHERE search_text LIKE lower('%cloud%') ESCAPE '\' LIMIT 1001) AS m) AS c) AS t LEFT JOIN LATERAL (SELECT id, name, description, category, metadata, created_by, created_at, updated_at FROM resources WHERE search_text LIKE lower('%cloud%') ESCAPE '\' ORDER BY created_at DESC, id DESC LIMIT 21 OFFSET 0) AS r ON true;
