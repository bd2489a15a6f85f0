-- GET /api/health: the database ping.
SELECT 1;
