-- FROZEN: the migrations 0001-0011 exactly as keygate shipped them before the live SQL
-- functions moved to adapters/postgres/functions/ (commit 032db63). A database
-- deployed then ran these; tests/integration/test_migrations.py upgrades such a
-- database and checks it ends with the same schema as a fresh one. Never edit.

-- ==== 0001_core
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

-- ==== 0002_resources
-- Resources: the list query's indexes, optional trigram search, Idempotency-Key records.

-- Each sort key ends in id, so ties keep one total order and a keyset walk can seek
-- straight to (key, id). NULL categories sort as '' (see adapters/postgres/resources.py).
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

-- ==== 0003_webhooks
-- Webhooks: subscriptions, an outbox of events written in the same transaction as the
-- change that caused them, one delivery per subscription and event, and every attempt.

CREATE TABLE webhooks (
    id          serial PRIMARY KEY,
    user_id     text NOT NULL,
    url         text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
    event_types text[] NOT NULL CHECK (cardinality(event_types) > 0),
    secret      text NOT NULL,
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_user_idx ON webhooks (user_id, id);
-- Fan-out looks up the active subscriptions to one event type.
CREATE INDEX webhooks_active_types_idx ON webhooks USING gin (event_types) WHERE is_active;

CREATE TABLE webhook_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type text NOT NULL,
    -- json, not jsonb: the payload keeps the key order it was written with.
    data       json NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id       integer NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id         bigint NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    -- The webhook-id header: the same on every retry, so receivers can drop repeats.
    message_id       text NOT NULL UNIQUE,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    -- Also the lease: a claim pushes it ahead, so a dead dispatcher's work comes due again.
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (webhook_id, event_id)
);
-- Claiming scans only pending rows, oldest due first.
CREATE INDEX webhook_deliveries_due_idx
    ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

CREATE TABLE webhook_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id  bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    status_code  integer,
    latency_ms   real NOT NULL,
    error        text
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);

-- ==== 0004_resources_category_id
-- A category filter sorted by category is ordered by id alone (see list_sql).
CREATE INDEX resources_category_id_idx ON resources (category, id);

-- ==== 0005_request_logs_partitions_concurrency
-- request_logs_ensure_partitions, replaced so that callers in several processes (every
-- worker runs it at start, then hourly) take turns. 0001 is left as it was: deployed
-- databases have run it already.
--
-- Without turns, a second caller that checked before the first committed queues for
-- the ACCESS EXCLUSIVE lock on request_logs that CREATE TABLE ... PARTITION OF takes,
-- and every request-log write and read arriving after it queues behind it; once the
-- first commits it takes that lock only to fail on a duplicate name. Waiting on an
-- advisory lock instead, it finds the partitions made and never asks for the table.
CREATE OR REPLACE FUNCTION request_logs_ensure_partitions(first_day date, days integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    day date;
    created integer := 0;
    part text;
BEGIN
    -- An arbitrary constant naming this lock in pg_locks (the migrations' is 7253118420).
    -- Transaction-scoped: held until the caller commits what it created.
    PERFORM pg_advisory_xact_lock(7253118421);
    FOR i IN 0 .. days - 1 LOOP
        day := first_day + i;
        part := 'request_logs_p' || to_char(day, 'YYYYMMDD');
        IF to_regclass(part) IS NULL THEN
            BEGIN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF request_logs FOR VALUES FROM (%L) TO (%L)',
                    part, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
                created := created + 1;
            EXCEPTION WHEN check_violation OR duplicate_table OR unique_violation THEN
                -- Rows for that day already sit in the default partition, or a table
                -- of that name was made meanwhile by other means than this function
                -- (by hand): leave it as it is.
                NULL;
            END;
        END IF;
    END LOOP;
    RETURN created;
END $$;

-- ==== 0006_quota_batches
-- Many quota decisions in one statement: a worker sends the takes of all requests
-- that arrived together. Subjects are taken in the order given; callers sort them,
-- so concurrent batches lock rows in one order and cannot deadlock.
CREATE FUNCTION quota_take_many(p_subjects text[], p_limits integer[])
RETURNS TABLE (ord integer, admitted boolean, remaining integer, retry_after integer,
               reset_after integer)
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_subjects, 1), 0) LOOP
        ord := i;
        SELECT q.admitted, q.remaining, q.retry_after, q.reset_after
          INTO admitted, remaining, retry_after, reset_after
          FROM quota_take(p_subjects[i], p_limits[i]) q;
        RETURN NEXT;
    END LOOP;
END $$;

-- ==== 0007_webhook_events_created_idx
-- Retention (adapters/postgres/retention.py) takes the oldest webhook events first; this
-- lets each batch start there instead of scanning the outbox.
CREATE INDEX webhook_events_created_idx ON webhook_events (created_at);

-- ==== 0008_resources_search_text
-- Search without ILIKE: ILIKE folds the case of every row it reads, about 5x the
-- cost of LIKE here (340 vs 65 ms to count "cloud" in 120k rows). A stored lowercase
-- copy of name and description lets a search be a plain LIKE on lower(term).
-- chr(31) (unit separator) stands between the two, so a term without it cannot
-- match across them; the adapter searches the old way when a term contains it.
ALTER TABLE resources ADD COLUMN search_text text
    GENERATED ALWAYS AS (lower(name) || chr(31) || lower(coalesce(description, ''))) STORED;

-- One trigram index on the copy replaces the two on the original columns.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX resources_search_trgm_idx ON resources USING gin (search_text gin_trgm_ops);
        DROP INDEX IF EXISTS resources_name_trgm_idx;
        DROP INDEX IF EXISTS resources_description_trgm_idx;
    END IF;
END $$;

-- ==== 0009_resource_counts
-- The list's `total` without counting rows. At 1M resources an exact count(*) of the
-- whole table took 50 ms and of one category 5 ms (index-only, vacuumed), against
-- 0.3 ms for the page itself. Triggers keep per-category counts instead.
--
-- Each writing statement appends one delta row per category it touched, so
-- concurrent writers never wait on a shared counter row (nor leave a chain of
-- row versions behind, see the quota notes in README.md); a periodic compaction
-- folds the deltas into one row per category. A count is the sum of a category's
-- rows, exact at READ COMMITTED like the count(*) it replaces.
CREATE TABLE resource_counts (
    category text,          -- NULL: the resources without a category
    n        bigint NOT NULL
);
CREATE INDEX resource_counts_category_idx ON resource_counts (category);

CREATE FUNCTION resource_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO resource_counts SELECT category, count(*) FROM new_rows GROUP BY category;
    RETURN NULL;
END $$;

CREATE FUNCTION resource_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO resource_counts SELECT category, -count(*) FROM old_rows GROUP BY category;
    RETURN NULL;
END $$;

CREATE FUNCTION resource_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO resource_counts
    SELECT category, sum(n) FROM (
        SELECT o.category, -1 AS n FROM old_rows o JOIN new_rows r USING (id)
         WHERE o.category IS DISTINCT FROM r.category
        UNION ALL
        SELECT r.category, 1 FROM old_rows o JOIN new_rows r USING (id)
         WHERE o.category IS DISTINCT FROM r.category
    ) AS moved GROUP BY category;
    RETURN NULL;
END $$;

CREATE FUNCTION resource_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM resource_counts;
    RETURN NULL;
END $$;

-- Writers wait while the triggers appear and the table is counted once.
LOCK TABLE resources IN SHARE MODE;

CREATE TRIGGER resource_counts_insert AFTER INSERT ON resources
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION resource_counts_inserted();
CREATE TRIGGER resource_counts_delete AFTER DELETE ON resources
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION resource_counts_deleted();
CREATE TRIGGER resource_counts_update AFTER UPDATE ON resources
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION resource_counts_updated();
CREATE TRIGGER resource_counts_truncate AFTER TRUNCATE ON resources
    FOR EACH STATEMENT EXECUTE FUNCTION resource_counts_truncated();

INSERT INTO resource_counts SELECT category, count(*) FROM resources GROUP BY category;

-- Folds the deltas into one row per category; rows appended meanwhile stay as they are
-- (the DELETE sees only what was committed when it started).
CREATE FUNCTION resource_counts_compact() RETURNS bigint LANGUAGE sql AS $$
    WITH folded AS (DELETE FROM resource_counts RETURNING category, n),
    kept AS (
        INSERT INTO resource_counts
        SELECT category, sum(n) FROM folded GROUP BY category HAVING sum(n) <> 0
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM folded) - (SELECT count(*) FROM kept)
$$;

-- ==== 0010_resource_events
-- Webhook events for resource changes are recorded by the database, in the writing
-- statement's own transaction, instead of by a second statement from the use case.
-- A create or an unconditional replace is then one statement in autocommit mode
-- (no BEGIN, outbox statement, COMMIT): measured in bench/README.md. It also means
-- every change is announced, whoever makes it (API, CLI, operator SQL, bulk COPY).
--
-- An event nobody subscribes to is not stored: the outbox holds only work to do.
-- Every UPDATE announces the rows it touched, even one that changed nothing, and a
-- later migration that rewrites resource rows would announce them all:
-- `SET LOCAL keygate.resource_events = 'off'` keeps a transaction quiet. TRUNCATE
-- announces nothing (no rows to describe).
--
-- Upgrading: an instance still on the code before this migration writes its own
-- outbox rows as well (double events), and the new code on a database without this
-- migration writes none; stop the old instances, migrate, start the new ones.

-- ISO 8601 in UTC exactly as the API writes times (Python's isoformat with 'Z':
-- microseconds only when there are any), so an event's data equals the API's body.
CREATE FUNCTION keygate_iso_utc(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN extract(microseconds FROM t)::bigint % 1000000 = 0 THEN ''
                ELSE to_char(t AT TIME ZONE 'UTC', '.US') END
        || 'Z'
$$;

-- The resource as clients see it (camelCase, the API's key order).
CREATE FUNCTION resource_event_data(r resources) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', r.id, 'name', r.name, 'description', r.description,
        'category', r.category, 'metadata', r.metadata, 'createdBy', r.created_by,
        'createdAt', keygate_iso_utc(r.created_at), 'updatedAt', keygate_iso_utc(r.updated_at))
$$;

-- Parameters are referred to by position: in a SQL function a column of the same
-- name would win over a parameter's name.
CREATE FUNCTION resource_events_wanted(kind text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT lower(coalesce(current_setting('keygate.resource_events', true), '')) <> 'off'
       AND EXISTS (SELECT 1 FROM webhooks WHERE is_active AND event_types @> ARRAY[$1])
$$;

-- One pending delivery per active subscription to the events' type. Returns how many.
CREATE FUNCTION webhook_deliveries_queue(kind text, event_ids bigint[]) RETURNS bigint
LANGUAGE sql AS $$
    WITH queued AS (
        INSERT INTO webhook_deliveries (webhook_id, event_id, message_id)
        SELECT s.id, e.id, 'msg_' || replace(gen_random_uuid()::text, '-', '')
        FROM unnest($2) WITH ORDINALITY AS e (id, n)
        CROSS JOIN (SELECT id FROM webhooks WHERE is_active AND event_types @> ARRAY[$1]) s
        ORDER BY e.n, s.id
        RETURNING 1
    )
    SELECT count(*) FROM queued
$$;

-- One function for the three triggers: plpgsql plans each branch's query when it
-- first runs it, so the transition table a branch names need only exist for its event.
-- Events are inserted straight from the transition table (a bulk write's payloads are
-- never gathered in memory); only their ids are collected.
CREATE FUNCTION resource_events_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text := CASE TG_OP WHEN 'INSERT' THEN 'resource.created'
                            WHEN 'UPDATE' THEN 'resource.updated'
                            ELSE 'resource.deleted' END;
    ids bigint[];
BEGIN
    IF NOT resource_events_wanted(kind) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN  -- a deleted resource's event carries its last state
        WITH e AS (
            INSERT INTO webhook_events (event_type, data)
            SELECT kind, resource_event_data(r) FROM old_rows r ORDER BY r.id
            RETURNING id
        )
        SELECT array_agg(id ORDER BY id) INTO ids FROM e;
    ELSE
        WITH e AS (
            INSERT INTO webhook_events (event_type, data)
            SELECT kind, resource_event_data(r) FROM new_rows r ORDER BY r.id
            RETURNING id
        )
        SELECT array_agg(id ORDER BY id) INTO ids FROM e;
    END IF;
    PERFORM webhook_deliveries_queue(kind, ids);
    RETURN NULL;
END $$;

CREATE TRIGGER resource_events_insert AFTER INSERT ON resources
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION resource_events_recorded();
CREATE TRIGGER resource_events_update AFTER UPDATE ON resources
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION resource_events_recorded();
CREATE TRIGGER resource_events_delete AFTER DELETE ON resources
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION resource_events_recorded();

-- ==== 0011_quota_take_n
-- The takes of one subject that arrive in one batch are decided together: one row
-- lock, one read and at most one write of the subject's row, instead of one of each
-- per request. A hot key's batch of 16 then leaves one dead row version instead of
-- 16, which is also 16 times less to walk while a long transaction holds them (see
-- README.md, rate limiting).
--
-- n takes at one instant answer exactly as n calls of the old quota_take at that
-- instant: the first ones admitted while the window has room, the rest rejected
-- without consuming anything; each answer is computed from the window as it stands
-- after the takes before it. quota_take is now quota_take_n with n = 1.
CREATE FUNCTION quota_take_n(
    p_subject text, p_limit integer, p_n integer, p_now timestamptz DEFAULT NULL
)
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
    taken integer := 0;
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
    FOR k IN 1 .. p_n LOOP
        admitted := total < p_limit;
        IF admitted THEN
            c[nbuckets] := c[nbuckets] + 1;
            total := total + 1;
            taken := taken + 1;
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
    END LOOP;

    IF taken > 0 THEN
        UPDATE quota_windows SET head_minute = head, counts = c WHERE subject = p_subject;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION quota_take(
    p_subject text, p_limit integer, p_now timestamptz DEFAULT NULL
)
RETURNS TABLE (admitted boolean, remaining integer, retry_after integer, reset_after integer)
LANGUAGE sql AS $$
    SELECT * FROM quota_take_n(p_subject, p_limit, 1, p_now)
$$;

-- Callers sort the subjects, so one subject's takes are adjacent: each run of equal
-- (subject, limit) is one quota_take_n, which reads the clock itself (after the
-- runs before it got their locks).
CREATE OR REPLACE FUNCTION quota_take_many(p_subjects text[], p_limits integer[])
RETURNS TABLE (ord integer, admitted boolean, remaining integer, retry_after integer,
               reset_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    n constant integer := coalesce(array_length(p_subjects, 1), 0);
    lo integer := 1;
    hi integer;
BEGIN
    WHILE lo <= n LOOP
        hi := lo;
        WHILE hi < n AND p_subjects[hi + 1] = p_subjects[lo]
                       AND p_limits[hi + 1] = p_limits[lo] LOOP
            hi := hi + 1;
        END LOOP;
        ord := lo - 1;
        FOR admitted, remaining, retry_after, reset_after IN
            SELECT * FROM quota_take_n(p_subjects[lo], p_limits[lo], hi - lo + 1)
        LOOP
            ord := ord + 1;
            RETURN NEXT;
        END LOOP;
        lo := hi + 1;
    END LOOP;
END $$;
