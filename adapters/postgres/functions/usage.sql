-- The per-key hourly usage rollups (tables and bucket bounds: migration 0016) kept by
-- statement triggers on request_logs, in the transaction of the rows they count: the
-- sink's COPY, an INSERT by hand and a restore alike. Partitions need no triggers of
-- their own: a statement trigger on the partitioned table sees the rows of all of them.

-- NaN compares above every number in PostgreSQL, so it lands in the last bucket.
CREATE OR REPLACE FUNCTION usage_latency_bucket(ms real) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE WHEN ms <= 0 THEN 0
                 WHEN ms < 0.001 THEN 1
                 WHEN ms >= 1e7 THEN 300
                 ELSE least(300, 1 + floor(ln(ms::float8 / 0.001) / ln(1.08)))
            END)::smallint
$$;

CREATE OR REPLACE FUNCTION usage_latency_value(bucket smallint) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN bucket = 0 THEN 0 ELSE 0.001 * power(1.08, bucket - 0.5) END
$$;

CREATE OR REPLACE FUNCTION usage_rollups_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO usage_status_deltas
    SELECT api_key_id, date_trunc('hour', created_at, 'UTC'), status_code, count(*)
    FROM new_rows WHERE api_key_id IS NOT NULL GROUP BY 1, 2, 3;
    INSERT INTO usage_latency_deltas
    SELECT api_key_id, date_trunc('hour', created_at, 'UTC'),
           usage_latency_bucket(response_time_ms), count(*)
    FROM new_rows WHERE api_key_id IS NOT NULL GROUP BY 1, 2, 3;
    RETURN NULL;
END $$;

-- An UPDATE moves each changed row from its old groups to its new ones.
CREATE OR REPLACE FUNCTION usage_rollups_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO usage_status_deltas
    SELECT k, h, s, sum(n) FROM (
        SELECT api_key_id, date_trunc('hour', created_at, 'UTC'), status_code, -1
        FROM old_rows WHERE api_key_id IS NOT NULL
        UNION ALL
        SELECT api_key_id, date_trunc('hour', created_at, 'UTC'), status_code, 1
        FROM new_rows WHERE api_key_id IS NOT NULL
    ) AS moved (k, h, s, n) GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
    INSERT INTO usage_latency_deltas
    SELECT k, h, b, sum(n) FROM (
        SELECT api_key_id, date_trunc('hour', created_at, 'UTC'),
               usage_latency_bucket(response_time_ms), -1
        FROM old_rows WHERE api_key_id IS NOT NULL
        UNION ALL
        SELECT api_key_id, date_trunc('hour', created_at, 'UTC'),
               usage_latency_bucket(response_time_ms), 1
        FROM new_rows WHERE api_key_id IS NOT NULL
    ) AS moved (k, h, b, n) GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
    RETURN NULL;
END $$;

-- No DELETE or TRUNCATE trigger: the rollups outlive the raw rows (`logs prune`).
CREATE OR REPLACE TRIGGER usage_rollups_insert AFTER INSERT ON request_logs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION usage_rollups_inserted();
CREATE OR REPLACE TRIGGER usage_rollups_update AFTER UPDATE ON request_logs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION usage_rollups_updated();

-- One compaction at a time (every worker runs it): a second one finds the lock taken
-- and leaves the work to the next turn. Deltas appended meanwhile stay as they are
-- (the DELETE sees only what was committed when it started).
CREATE OR REPLACE FUNCTION usage_compact() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    -- An arbitrary constant naming this lock in pg_locks (the migrations' is 7253118420).
    usage_lock constant bigint := 7253118422;
    moved bigint;
    moved_latency bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(usage_lock) THEN
        RETURN 0;
    END IF;
    WITH taken AS (DELETE FROM usage_status_deltas RETURNING *),
    folded AS (
        INSERT INTO usage_status AS u
        SELECT api_key_id, hour, status_code, sum(n) FROM taken GROUP BY 1, 2, 3
        ON CONFLICT (api_key_id, hour, status_code) DO UPDATE SET n = u.n + excluded.n
        RETURNING 1
    )
    SELECT count(*) INTO moved FROM taken;
    WITH taken AS (DELETE FROM usage_latency_deltas RETURNING *),
    folded AS (
        INSERT INTO usage_latency AS u
        SELECT api_key_id, hour, bucket, sum(n) FROM taken GROUP BY 1, 2, 3
        ON CONFLICT (api_key_id, hour, bucket) DO UPDATE SET n = u.n + excluded.n
        RETURNING 1
    )
    SELECT count(*) INTO moved_latency FROM taken;
    RETURN moved + moved_latency;
END $$;

-- The rollups of every hour from `since`'s on, counted anew from the raw rows (all
-- of them when `since` is NULL); the hours before stay as they are, also those whose
-- raw rows are gone. Writers of request_logs wait meanwhile (SHARE lock).
CREATE OR REPLACE FUNCTION usage_rebuild(since timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    usage_lock constant bigint := 7253118422;
    first_hour timestamptz;
    counted bigint;
BEGIN
    LOCK TABLE request_logs IN SHARE MODE;
    PERFORM pg_advisory_xact_lock(usage_lock);
    first_hour := date_trunc('hour', coalesce(since, (SELECT min(created_at) FROM request_logs)),
                             'UTC');
    IF first_hour IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM usage_status WHERE hour >= first_hour;
    DELETE FROM usage_status_deltas WHERE hour >= first_hour;
    DELETE FROM usage_latency WHERE hour >= first_hour;
    DELETE FROM usage_latency_deltas WHERE hour >= first_hour;
    INSERT INTO usage_status
    SELECT api_key_id, date_trunc('hour', created_at, 'UTC'), status_code, count(*)
    FROM request_logs WHERE api_key_id IS NOT NULL AND created_at >= first_hour
    GROUP BY 1, 2, 3;
    INSERT INTO usage_latency
    SELECT api_key_id, date_trunc('hour', created_at, 'UTC'),
           usage_latency_bucket(response_time_ms), count(*)
    FROM request_logs WHERE api_key_id IS NOT NULL AND created_at >= first_hour
    GROUP BY 1, 2, 3;
    SELECT coalesce(sum(n), 0) INTO counted FROM usage_status WHERE hour >= first_hour;
    RETURN counted;
END $$;

COMMENT ON FUNCTION usage_latency_bucket(real) IS
'The latency histogram bucket of a response time in ms (bounds: migration 0016).';
COMMENT ON FUNCTION usage_latency_value(smallint) IS
'The value a latency bucket stands for: its geometric middle (0 for bucket 0).';
COMMENT ON FUNCTION usage_rollups_inserted() IS
'Trigger (usage_rollups_insert): appends the counts of the request_logs rows one statement '
'inserted, per key and hour, by status and by latency bucket.';
COMMENT ON FUNCTION usage_rollups_updated() IS
'Trigger (usage_rollups_update): moves the request_logs rows one statement changed to their '
'new groups.';
COMMENT ON FUNCTION usage_compact() IS
'Folds the usage deltas into one row per group; returns how many delta rows it folded '
'(0 when another compaction holds the turn).';
COMMENT ON FUNCTION usage_rebuild(timestamptz) IS
'Recomputes the usage rollups of the hours from since on (NULL: from the oldest raw row) '
'from request_logs; returns the requests counted.';
