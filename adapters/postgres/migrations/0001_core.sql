-- The original design's three tables, with timestamptz, plus what the contract needs.
-- Functions and the triggers that call them live in ../functions/ (see migrate.py).

-- Every change authentication depends on is announced to each instance's key cache
-- (triggers: functions/api_keys.sql).
CREATE TABLE api_keys (
    id           serial PRIMARY KEY,
    user_id      text NOT NULL,
    key_hash     text NOT NULL UNIQUE,
    prefix       text NOT NULL,
    name         text NOT NULL,
    permissions  text[] NOT NULL DEFAULT ARRAY['read'],
    rate_limit   integer NOT NULL DEFAULT 100 CHECK (rate_limit > 0),
    last_used_at timestamptz,
    expires_at   timestamptz,
    is_active    boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, id);

CREATE TABLE resources (
    id          serial PRIMARY KEY,
    name        text NOT NULL,
    description text,
    category    text,
    metadata    jsonb,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Range-partitioned by day so retention drops whole partitions; the default
-- partition catches any row whose day has no partition yet, so none is lost.
CREATE TABLE request_logs (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    api_key_id       integer REFERENCES api_keys (id),
    method           text NOT NULL,
    path             text NOT NULL,
    status_code      integer NOT NULL,
    response_time_ms real NOT NULL,
    ip_address       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX idx_logs_key_time ON request_logs (api_key_id, created_at);
CREATE TABLE request_logs_default PARTITION OF request_logs DEFAULT;

-- Daily partitions are made ahead by request_logs_ensure_partitions
-- (functions/request_logs.sql), at every worker's start and hourly.

-- Quota state: one small row per subject (a key, or a client IP for sign-up),
-- never a scan of request_logs. functions/quota.sql decides on it.
CREATE TABLE quota_windows (
    subject     text PRIMARY KEY,
    head_minute bigint NOT NULL,
    counts      integer[] NOT NULL
);

-- Secrets shared by every instance on this database (e.g. the cursor signing key).
CREATE TABLE keygate_secrets (
    name  text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO keygate_secrets
VALUES ('cursor', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
