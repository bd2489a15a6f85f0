-- Per-key hourly rollups of request_logs, so that a key's usage is read from a few
-- rows per hour whatever its traffic (a scan of its raw rows took 15 ms at 10,000
-- requests in the day and 600 ms at 1,000,000). The triggers that keep them, their
-- compaction and the rebuild are functions/usage.sql.
--
-- Like resource_counts (migration 0009), writers only append: each statement that
-- inserts raw rows appends one delta row per (key, hour, status) and per (key, hour,
-- latency bucket) it touched, so concurrent writers never wait on a shared row;
-- usage_compact folds the deltas into the rollups proper, one row per group. A read
-- sums both. Raw rows deleted later (`logs prune`) leave the rollups as they are:
-- they outlive them, until the retention job drops their hours.
CREATE TABLE usage_status (
    api_key_id  integer     NOT NULL,
    hour        timestamptz NOT NULL,  -- the hour's start, UTC
    status_code integer     NOT NULL,
    n           bigint      NOT NULL,
    PRIMARY KEY (api_key_id, hour, status_code)
);
-- Latency histogram: bucket 0 holds 0 ms, bucket i (1..300) holds
-- [0.001 * 1.08^(i-1), 0.001 * 1.08^i) ms, the last one everything above; read at a
-- bucket's geometric middle a value is off by at most 3.9 %.
CREATE TABLE usage_latency (
    api_key_id integer     NOT NULL,
    hour       timestamptz NOT NULL,
    bucket     smallint    NOT NULL,
    n          bigint      NOT NULL,
    PRIMARY KEY (api_key_id, hour, bucket)
);
-- Retention deletes by hour.
CREATE INDEX usage_status_hour_idx ON usage_status (hour);
CREATE INDEX usage_latency_hour_idx ON usage_latency (hour);

CREATE TABLE usage_status_deltas (
    api_key_id  integer     NOT NULL,
    hour        timestamptz NOT NULL,
    status_code integer     NOT NULL,
    n           bigint      NOT NULL
);
CREATE TABLE usage_latency_deltas (
    api_key_id integer     NOT NULL,
    hour       timestamptz NOT NULL,
    bucket     smallint    NOT NULL,
    n          bigint      NOT NULL
);
CREATE INDEX usage_status_deltas_key_idx ON usage_status_deltas (api_key_id, hour);
CREATE INDEX usage_latency_deltas_key_idx ON usage_latency_deltas (api_key_id, hour);

-- Writers wait while the raw rows are rolled up once and the triggers appear:
-- migrate.py creates them (functions/usage.sql) in this same transaction.
LOCK TABLE request_logs IN SHARE MODE;

INSERT INTO usage_status
SELECT api_key_id, date_trunc('hour', created_at, 'UTC'), status_code, count(*)
FROM request_logs WHERE api_key_id IS NOT NULL GROUP BY 1, 2, 3;

-- The bucket as usage_latency_bucket (functions/usage.sql) computes it; that
-- function does not exist yet while migrations run.
INSERT INTO usage_latency
SELECT api_key_id, date_trunc('hour', created_at, 'UTC'),
       CASE WHEN response_time_ms <= 0 THEN 0
            WHEN response_time_ms < 0.001 THEN 1
            WHEN response_time_ms >= 1e7 THEN 300
            ELSE least(300, 1 + floor(ln(response_time_ms::float8 / 0.001) / ln(1.08)))
       END,
       count(*)
FROM request_logs WHERE api_key_id IS NOT NULL GROUP BY 1, 2, 3;
