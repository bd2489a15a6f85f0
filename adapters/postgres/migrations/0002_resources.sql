-- Resources: the list query's indexes, optional trigram search, Idempotency-Key records.

-- Each sort key ends in id, so ties keep one total order and a keyset walk can seek
-- straight to (key, id). NULL categories sort as '' (see adapters/postgres/resource_list.py).
CREATE INDEX resources_created_idx ON resources (created_at, id);
CREATE INDEX resources_name_idx ON resources (name, id);
CREATE INDEX resources_category_key_idx ON resources ((coalesce(category, '')), id);
-- A category filter with the default sort, and with the name sort.
CREATE INDEX resources_category_created_idx ON resources (category, created_at, id);
CREATE INDEX resources_category_name_idx ON resources (category, name, id);

-- Substring search (ILIKE '%...%') can use trigram indexes, but pg_trgm is not in
-- every build (the embedded server lacks it): search works without, only slower.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX resources_name_trgm_idx ON resources USING gin (name gin_trgm_ops);
        CREATE INDEX resources_description_trgm_idx
            ON resources USING gin (description gin_trgm_ops);
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm not installed (no privilege): search runs without trigram indexes';
END $$;

-- One row per (user, Idempotency-Key): the first request's body hash and the
-- response to replay. Written in the create's own transaction.
CREATE TABLE idempotency_keys (
    user_id      text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       integer,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
