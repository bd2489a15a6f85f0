-- The quota decision, inside the database: sliding windows of 61 buckets (a minute of
-- 1 s buckets, an hour of 60 s, a day of 1440 s) and usage credits, one row of
-- quota_windows per subject (a key, or a client IP for sign-up). The same arithmetic
-- in Python is domain/quota.py and domain/credits.py; tests hold them to the same
-- answers (tests/contract/test_quota_rule.py).
--
-- A request at time t fits a window of W seconds when the requests admitted in every
-- bucket that overlaps (t - W, t] add up to less than its limit. A bucket overlapping
-- the window only in part is counted whole, so a limit is never exceeded in any
-- rolling window; the price is that quota comes back up to one bucket late.

-- The hourly window's shape, named once (domain/quota.py: WINDOW_SECONDS,
-- BUCKET_SECONDS, BUCKETS). IMMUTABLE SQL functions are inlined where used.
CREATE OR REPLACE FUNCTION quota_window_seconds() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 3600 $$;

CREATE OR REPLACE FUNCTION quota_bucket_seconds() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 60 $$;

-- 61 for every window: its 60 whole buckets and the one in progress.
CREATE OR REPLACE FUNCTION quota_buckets() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 61 $$;

-- A bucket stops overlapping a window of w seconds once (bucket + 1) * width <= t - w;
-- at least 1, so a client told to wait always waits.
CREATE OR REPLACE FUNCTION quota_bucket_expiry(bucket bigint, now_s double precision, w integer) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT greatest(1, ceil(($1 + 1) * ($3 / 60) + $3 - $2))::integer
$$;

-- The window's counts moved on to bucket `head`: buckets that left it are dropped.
CREATE OR REPLACE FUNCTION quota_slide(old_head bigint, c integer[], head bigint)
RETURNS integer[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN c IS NULL OR head - old_head >= 61 THEN array_fill(0, ARRAY[61])
        WHEN head <= old_head THEN c
        ELSE c[head - old_head + 1 : 61] || array_fill(0, ARRAY[(head - old_head)::integer])
    END
$$;

-- What one window says at now_s: requests left, seconds until one more fits (0 while
-- some are left; the oldest buckets leave first), seconds until it is empty.
CREATE OR REPLACE FUNCTION quota_status(
    p_limit integer, w integer, head bigint, c integer[], now_s double precision,
    OUT remaining integer, OUT retry_after integer, OUT reset_after integer
) LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    total integer := 0;
    acc integer;
BEGIN
    FOR i IN 1 .. 61 LOOP total := total + c[i]; END LOOP;
    remaining := greatest(0, p_limit - total);
    retry_after := 0;
    IF remaining = 0 THEN
        acc := total;
        FOR i IN 1 .. 61 LOOP
            acc := acc - c[i];
            IF acc < p_limit THEN
                retry_after := quota_bucket_expiry(head - 61 + i, now_s, w);
                EXIT;
            END IF;
        END LOOP;
    END IF;
    reset_after := 0;
    FOR i IN REVERSE 61 .. 1 LOOP
        IF c[i] > 0 THEN
            reset_after := quota_bucket_expiry(head - 61 + i, now_s, w);
            EXIT;
        END IF;
    END LOOP;
END $$;

-- Credits' refill periods, numbered as domain/credits.py numbers them: days since the
-- epoch, or months since January 1970.
CREATE OR REPLACE FUNCTION quota_period(p_interval text, now_s double precision)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_interval = 'monthly' THEN
        ((extract(year FROM d) - 1970) * 12 + extract(month FROM d) - 1)::integer
    ELSE floor(now_s / 86400)::integer END
    FROM (SELECT to_timestamp(floor(now_s / 86400) * 86400) AT TIME ZONE 'UTC' AS d) AS day
$$;

CREATE OR REPLACE FUNCTION quota_period_start(p_interval text, p_period integer)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_interval = 'monthly' THEN
        extract(epoch FROM make_timestamptz(1970 + p_period / 12, p_period % 12 + 1, 1,
                                            0, 0, 0, 'UTC'))::double precision
    ELSE p_period * 86400.0 END
$$;

-- The takes of one subject that arrive in one batch are decided together: one row
-- lock, one read and at most one write of the subject's row, instead of one of each
-- per request (see docs/internals.md, rate limiting). p_minute / p_day NULL: no such
-- window; p_cv NULL: not metered. p_spend false: a look, which counts and writes
-- nothing. The arithmetic is quota_lease_n's (quota_lease.sql), asked for no lease.
CREATE OR REPLACE FUNCTION quota_decide_n(
    p_subject text, p_minute integer, p_hour integer, p_day integer,
    p_cv bigint, p_cset integer, p_cinterval text, p_camount integer,
    p_n integer, p_now timestamptz DEFAULT NULL, p_spend boolean DEFAULT true
)
RETURNS TABLE (admitted boolean, remaining integer[], retry_after integer[],
               reset_after integer[], credits_remaining integer,
               credits_retry_after integer, out_of_credits boolean)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT d.admitted, d.remaining, d.retry_after, d.reset_after,
                        d.credits_remaining, d.credits_retry_after, d.out_of_credits
      FROM quota_lease_n(p_subject, p_minute, p_hour, p_day, p_cv, p_cset, p_cinterval,
                         p_camount, p_n, 0, 0, NULL, p_now, p_spend) d;
END $$;

-- Callers sort the subjects, so one subject's decisions are adjacent (and concurrent
-- batches lock rows in one order and cannot deadlock): each run of one subject with
-- one policy is one quota_decide_n, which reads the clock itself (after the runs before
-- it got their locks).
CREATE OR REPLACE FUNCTION quota_decide_many(
    p_subjects text[], p_minute integer[], p_hour integer[], p_day integer[],
    p_cv bigint[], p_cset integer[], p_cinterval text[], p_camount integer[]
)
RETURNS TABLE (ord integer, admitted boolean, remaining integer[], retry_after integer[],
               reset_after integer[], credits_remaining integer,
               credits_retry_after integer, out_of_credits boolean)
LANGUAGE plpgsql AS $$
DECLARE
    n constant integer := coalesce(array_length(p_subjects, 1), 0);
    lo integer := 1;
    hi integer;
BEGIN
    WHILE lo <= n LOOP
        hi := lo;
        WHILE hi < n AND p_subjects[hi + 1] = p_subjects[lo]
              AND p_minute[hi + 1] IS NOT DISTINCT FROM p_minute[lo]
              AND p_hour[hi + 1] = p_hour[lo]
              AND p_day[hi + 1] IS NOT DISTINCT FROM p_day[lo]
              AND p_cv[hi + 1] IS NOT DISTINCT FROM p_cv[lo]
              AND p_cset[hi + 1] IS NOT DISTINCT FROM p_cset[lo]
              AND p_cinterval[hi + 1] IS NOT DISTINCT FROM p_cinterval[lo]
              AND p_camount[hi + 1] IS NOT DISTINCT FROM p_camount[lo] LOOP
            hi := hi + 1;
        END LOOP;
        ord := lo - 1;
        FOR admitted, remaining, retry_after, reset_after, credits_remaining,
            credits_retry_after, out_of_credits IN
            SELECT * FROM quota_decide_n(p_subjects[lo], p_minute[lo], p_hour[lo], p_day[lo],
                p_cv[lo], p_cset[lo], p_cinterval[lo], p_camount[lo], hi - lo + 1)
        LOOP
            ord := ord + 1;
            RETURN NEXT;
        END LOOP;
        lo := hi + 1;
    END LOOP;
END $$;

-- The single-window forms: a subject with only an hourly limit.
CREATE OR REPLACE FUNCTION quota_take_n(
    p_subject text, p_limit integer, p_n integer, p_now timestamptz DEFAULT NULL
)
RETURNS TABLE (admitted boolean, remaining integer, retry_after integer, reset_after integer)
LANGUAGE sql AS $$
    SELECT d.admitted, d.remaining[1], d.retry_after[1], d.reset_after[1]
      FROM quota_decide_n(p_subject, NULL, p_limit, NULL, NULL, NULL, NULL, NULL, p_n, p_now) d
$$;

CREATE OR REPLACE FUNCTION quota_take(
    p_subject text, p_limit integer, p_now timestamptz DEFAULT NULL
)
RETURNS TABLE (admitted boolean, remaining integer, retry_after integer, reset_after integer)
LANGUAGE sql AS $$
    SELECT * FROM quota_take_n(p_subject, p_limit, 1, p_now)
$$;

CREATE OR REPLACE FUNCTION quota_take_many(p_subjects text[], p_limits integer[])
RETURNS TABLE (ord integer, admitted boolean, remaining integer, retry_after integer,
               reset_after integer)
LANGUAGE sql AS $$
    SELECT d.ord, d.admitted, d.remaining[1], d.retry_after[1], d.reset_after[1]
      FROM quota_decide_many(p_subjects, array_fill(NULL::integer, ARRAY[cardinality(p_subjects)]),
          p_limits, array_fill(NULL::integer, ARRAY[cardinality(p_subjects)]),
          array_fill(NULL::bigint, ARRAY[cardinality(p_subjects)]),
          array_fill(NULL::integer, ARRAY[cardinality(p_subjects)]),
          array_fill(NULL::text, ARRAY[cardinality(p_subjects)]),
          array_fill(NULL::integer, ARRAY[cardinality(p_subjects)])) d
$$;

COMMENT ON FUNCTION quota_window_seconds() IS
'The hourly rate-limit window: 3600 s (domain/quota.py WINDOW_SECONDS).';
COMMENT ON FUNCTION quota_bucket_seconds() IS
'The width of one hourly bucket: 60 s (domain/quota.py BUCKET_SECONDS).';
COMMENT ON FUNCTION quota_buckets() IS
'Buckets per window: 61, its 60 whole buckets and the one in progress (domain/quota.py BUCKETS).';
COMMENT ON FUNCTION quota_bucket_expiry(bigint, double precision, integer) IS
'Seconds from now_s (epoch) until the bucket leaves a window of w seconds (w + w/60 s '
'after the bucket began), at least 1.';
COMMENT ON FUNCTION quota_slide(bigint, integer[], bigint) IS
'A window''s 61 counts moved on to bucket head (NULL counts: an empty window).';
COMMENT ON FUNCTION quota_status(integer, integer, bigint, integer[], double precision) IS
'One window at now_s: requests left, seconds until one more fits, seconds until empty.';
COMMENT ON FUNCTION quota_period(text, double precision) IS
'The credits refill period of now_s: months since 1970 (monthly), else days since the epoch.';
COMMENT ON FUNCTION quota_period_start(text, integer) IS
'Epoch seconds at which a refill period begins (00:00 UTC; the 1st for monthly).';
COMMENT ON FUNCTION quota_decide_n(text, integer, integer, integer, bigint, integer, text,
                                   integer, integer, timestamptz, boolean) IS
'Decides p_n requests of p_subject over its windows (minute, hour, day; NULL: none) and '
'credits (p_cv NULL: unmetered) at one instant, holding the row lock: admitted only when '
'every window has room and a credit is left, then counted in all and one credit spent; a '
'refused request changes nothing. Arrays hold one entry per window the subject has, '
'shortest first. p_spend false: a look, no lock, no write.';
COMMENT ON FUNCTION quota_decide_many(text[], integer[], integer[], integer[], bigint[],
                                      integer[], text[], integer[]) IS
'A batch of decisions, one per index, answered with ord = i. Callers sort by subject: '
'equal neighbours are decided by one quota_decide_n.';
COMMENT ON FUNCTION quota_take_n(text, integer, integer, timestamptz) IS
'p_n takes of p_subject against an hourly p_limit alone: quota_decide_n for that policy.';
COMMENT ON FUNCTION quota_take(text, integer, timestamptz) IS
'One take: quota_take_n with p_n = 1.';
COMMENT ON FUNCTION quota_take_many(text[], integer[]) IS
'A batch of hourly takes, one per (p_subjects[i], p_limits[i]), answered with ord = i.';
