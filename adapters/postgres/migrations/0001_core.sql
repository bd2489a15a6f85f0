-- The original design's three tables, with timestamptz, plus what the contract needs.

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

CREATE FUNCTION request_logs_ensure_partitions(first_day date, days integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    day date;
    created integer := 0;
    part text;
BEGIN
    FOR i IN 0 .. days - 1 LOOP
        day := first_day + i;
        part := 'request_logs_p' || to_char(day, 'YYYYMMDD');
        IF to_regclass(part) IS NULL THEN
            BEGIN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF request_logs FOR VALUES FROM (%L) TO (%L)',
                    part, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
                created := created + 1;
            EXCEPTION WHEN check_violation OR duplicate_table THEN
                -- Rows for that day already sit in the default partition, or another
                -- instance made it first: leave it as it is.
                NULL;
            END;
        END IF;
    END LOOP;
    RETURN created;
END $$;

SELECT request_logs_ensure_partitions((now() AT TIME ZONE 'UTC')::date - 1, 9);

-- Quota state: one small row per subject (a key, or a client IP for sign-up),
-- never a scan of request_logs. See domain/quota.py for the arithmetic.
CREATE TABLE quota_windows (
    subject     text PRIMARY KEY,
    head_minute bigint NOT NULL,
    counts      integer[] NOT NULL
);

CREATE FUNCTION quota_take(p_subject text, p_limit integer, p_now timestamptz DEFAULT NULL)
RETURNS TABLE (admitted boolean, remaining integer, retry_after integer, reset_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    nbuckets constant integer := 61;
    now_s double precision := extract(epoch FROM coalesce(p_now, clock_timestamp()));
    minute bigint := floor(now_s / 60);
    head bigint;
    c integer[];
    shift bigint;
    total integer;
    acc integer;
BEGIN
    -- Quota rows are rebuilt within the hour; a crash may lose the last few
    -- hundred ms of counts, and in exchange a hot key does not wait for fsync.
    PERFORM set_config('synchronous_commit', 'off', true);

    SELECT w.head_minute, w.counts INTO head, c
      FROM quota_windows w WHERE w.subject = p_subject FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO quota_windows VALUES (p_subject, minute, array_fill(0, ARRAY[nbuckets]))
        ON CONFLICT (subject) DO NOTHING;
        SELECT w.head_minute, w.counts INTO head, c
          FROM quota_windows w WHERE w.subject = p_subject FOR UPDATE;
    END IF;

    shift := minute - head;
    IF shift >= nbuckets THEN
        c := array_fill(0, ARRAY[nbuckets]);
        head := minute;
    ELSIF shift > 0 THEN
        c := c[shift + 1 : nbuckets] || array_fill(0, ARRAY[shift::integer]);
        head := minute;
    END IF;

    SELECT coalesce(sum(x), 0) INTO total FROM unnest(c) AS x;
    admitted := total < p_limit;
    IF admitted THEN
        c[nbuckets] := c[nbuckets] + 1;
        total := total + 1;
        UPDATE quota_windows SET head_minute = head, counts = c WHERE subject = p_subject;
    END IF;
    remaining := greatest(0, p_limit - total);

    retry_after := 0;
    IF remaining = 0 THEN
        acc := total;
        FOR i IN 1 .. nbuckets LOOP
            acc := acc - c[i];
            IF acc < p_limit THEN
                retry_after := greatest(1, ceil((head - nbuckets + i) * 60 + 3660 - now_s));
                EXIT;
            END IF;
        END LOOP;
    END IF;

    reset_after := 0;
    FOR i IN REVERSE nbuckets .. 1 LOOP
        IF c[i] > 0 THEN
            reset_after := greatest(1, ceil((head - nbuckets + i) * 60 + 3660 - now_s));
            EXIT;
        END IF;
    END LOOP;
    RETURN NEXT;
END $$;

-- Every change to a key that authentication depends on reaches every instance's
-- key cache at once, whoever made it (API, CLI or an operator's SQL).
CREATE FUNCTION api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('keygate_api_keys', '*');
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('keygate_api_keys', OLD.key_hash);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND (TG_OP = 'INSERT' OR NEW.key_hash <> OLD.key_hash) THEN
        PERFORM pg_notify('keygate_api_keys', NEW.key_hash);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER api_keys_changed_row AFTER INSERT OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_notify();
-- last_used_at alone changes nothing authentication reads, so it notifies nobody.
CREATE TRIGGER api_keys_changed_update AFTER UPDATE ON api_keys
    FOR EACH ROW
    WHEN ((OLD.user_id, OLD.key_hash, OLD.name, OLD.permissions, OLD.rate_limit,
           OLD.expires_at, OLD.is_active)
          IS DISTINCT FROM
          (NEW.user_id, NEW.key_hash, NEW.name, NEW.permissions, NEW.rate_limit,
           NEW.expires_at, NEW.is_active))
    EXECUTE FUNCTION api_keys_notify();
CREATE TRIGGER api_keys_truncated AFTER TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION api_keys_notify();

-- Secrets shared by every instance on this database (e.g. the cursor signing key).
CREATE TABLE keygate_secrets (
    name  text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO keygate_secrets
VALUES ('cursor', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
