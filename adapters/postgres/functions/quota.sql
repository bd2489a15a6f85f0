-- The rate-limit decision, inside the database: a sliding hour of per-minute buckets,
-- one row of quota_windows per subject (a key, or a client IP for sign-up). The same
-- arithmetic in Python is domain/quota.py; tests hold the two to the same answers.
--
-- A request at time t is admitted when the requests admitted in every minute bucket
-- that overlaps (t - 3600, t] add up to less than the limit. A bucket overlapping the
-- window only in part is counted whole, so a limit is never exceeded in any rolling
-- hour; the price is that quota comes back up to one minute late.

-- The window's shape, named once (domain/quota.py: WINDOW_SECONDS, BUCKET_SECONDS,
-- BUCKETS). IMMUTABLE SQL functions are inlined and folded into constants where used.
CREATE OR REPLACE FUNCTION quota_window_seconds() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 3600 $$;

CREATE OR REPLACE FUNCTION quota_bucket_seconds() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 60 $$;

-- 61: the 60 whole minutes of the hour and the minute in progress.
CREATE OR REPLACE FUNCTION quota_buckets() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT quota_window_seconds() / quota_bucket_seconds() + 1
$$;

-- A bucket stops overlapping the window once (minute + 1) * 60 <= t - 3600, that is
-- 3660 s after its minute began; at least 1, so a client told to wait always waits.
CREATE OR REPLACE FUNCTION quota_seconds_until_expiry(bucket_minute bigint, now_s double precision)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT greatest(1, ceil(($1 + 1) * quota_bucket_seconds() + quota_window_seconds() - $2))::integer
$$;

-- The takes of one subject that arrive in one batch are decided together: one row
-- lock, one read and at most one write of the subject's row, instead of one of each
-- per request. A hot key's batch of 16 then leaves one dead row version instead of
-- 16, which is also 16 times less to walk while a long transaction holds them (see
-- README.md, rate limiting).
CREATE OR REPLACE FUNCTION quota_take_n(
    p_subject text, p_limit integer, p_n integer, p_now timestamptz DEFAULT NULL
)
RETURNS TABLE (admitted boolean, remaining integer, retry_after integer, reset_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    nbuckets constant integer := quota_buckets();
    now_s double precision := extract(epoch FROM coalesce(p_now, clock_timestamp()));
    minute bigint := floor(now_s / quota_bucket_seconds());
    head bigint;     -- the minute of the newest bucket, c[nbuckets]
    c integer[];     -- admitted requests per minute, oldest first
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

    -- Slide the window to this minute: the buckets that left it are dropped.
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

        -- Until one more would be admitted: the oldest buckets leave first.
        retry_after := 0;
        IF remaining = 0 THEN
            acc := total;
            FOR i IN 1 .. nbuckets LOOP
                acc := acc - c[i];
                IF acc < p_limit THEN
                    retry_after := quota_seconds_until_expiry(head - nbuckets + i, now_s);
                    EXIT;
                END IF;
            END LOOP;
        END IF;

        -- Until every counted request has left: the newest non-empty bucket expires.
        reset_after := 0;
        FOR i IN REVERSE nbuckets .. 1 LOOP
            IF c[i] > 0 THEN
                reset_after := quota_seconds_until_expiry(head - nbuckets + i, now_s);
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

-- Callers sort the subjects, so one subject's takes are adjacent (and concurrent
-- batches lock rows in one order and cannot deadlock): each run of equal
-- (subject, limit) is one quota_take_n, which reads the clock itself (after the runs
-- before it got their locks).
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

COMMENT ON FUNCTION quota_window_seconds() IS
'The rate-limit window: 3600 s (domain/quota.py WINDOW_SECONDS).';
COMMENT ON FUNCTION quota_bucket_seconds() IS
'The width of one quota bucket: 60 s (domain/quota.py BUCKET_SECONDS).';
COMMENT ON FUNCTION quota_buckets() IS
'Buckets per quota_windows row: 61, the hour''s 60 minutes and the one in progress '
'(domain/quota.py BUCKETS).';
COMMENT ON FUNCTION quota_seconds_until_expiry(bigint, double precision) IS
'Seconds from now_s (epoch) until the bucket of bucket_minute leaves the window '
'(3660 s after that minute began), at least 1.';
COMMENT ON FUNCTION quota_take_n(text, integer, integer, timestamptz) IS
'Decides p_n takes of p_subject against p_limit at one instant (p_now, else the clock), '
'holding the subject''s row lock: one answer per take, each as if taken one after '
'another; a refused take consumes nothing. retry_after: seconds until one more would be '
'admitted (0 while some remain); reset_after: seconds until the window is empty.';
COMMENT ON FUNCTION quota_take(text, integer, timestamptz) IS
'One take: quota_take_n with p_n = 1.';
COMMENT ON FUNCTION quota_take_many(text[], integer[]) IS
'A batch of takes, one per (p_subjects[i], p_limits[i]), answered with ord = i. Callers sort '
'by subject: equal neighbours are decided by one quota_take_n.';
