-- An authenticated request near its key's limits (a unknown path with a valid key):
-- the quota statement. Far from the limits a leased request sends none.
SELECT * FROM quota_take('key:1', 100000000, NULL);
