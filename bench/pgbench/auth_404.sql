-- Any authenticated request (e.g. an unknown path with a valid key): the quota call.
SELECT * FROM quota_take('key:1', 100000000, NULL);
