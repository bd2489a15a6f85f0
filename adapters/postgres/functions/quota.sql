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
-- per request (see README.md, rate limiting). p_minute / p_day NULL: no such window;
-- p_cv NULL: not metered. p_spend false: a look, which counts and writes nothing.
CREATE OR REPLACE FUNCTION quota_decide_n(
    p_subject text, p_minute integer, p_hour integer, p_day integer,
    p_cv bigint, p_cset integer, p_cinterval text, p_camount integer,
    p_n integer, p_now timestamptz DEFAULT NULL, p_spend boolean DEFAULT true
)
RETURNS TABLE (admitted boolean, remaining integer[], retry_after integer[],
               reset_after integer[], credits_remaining integer,
               credits_retry_after integer, out_of_credits boolean)
LANGUAGE plpgsql AS $$
DECLARE
    now_s double precision := extract(epoch FROM coalesce(p_now, clock_timestamp()));
    r quota_windows%ROWTYPE;
    mh bigint := floor(now_s);
    hh bigint := floor(now_s / 60);
    dh bigint := floor(now_s / 1440);
    mc integer[]; hc integer[]; dc integer[];
    cv bigint; cr integer; cp integer;
    period integer := quota_period(p_cinterval, now_s);
    fits boolean; has_credit boolean;
    taken integer := 0;
    s record;
BEGIN
    -- Quota rows are rebuilt within the window; a crash may lose the last few hundred
    -- ms of counts, and in exchange a hot key does not wait for fsync.
    PERFORM set_config('synchronous_commit', 'off', true);
    IF p_spend THEN
        SELECT * INTO r FROM quota_windows w WHERE w.subject = p_subject FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO quota_windows (subject, head_minute, counts)
            VALUES (p_subject, hh, array_fill(0, ARRAY[61])) ON CONFLICT (subject) DO NOTHING;
            SELECT * INTO r FROM quota_windows w WHERE w.subject = p_subject FOR UPDATE;
        END IF;
    ELSE
        SELECT * INTO r FROM quota_windows w WHERE w.subject = p_subject;
    END IF;
    -- A clock behind the row's last write keeps the row's buckets (as the model does).
    mh := greatest(mh, r.minute_head);
    hh := greatest(hh, r.head_minute);
    dh := greatest(dh, r.day_head);
    mc := quota_slide(r.minute_head, r.minute_counts, mh);
    hc := quota_slide(r.head_minute, r.counts, hh);
    dc := quota_slide(r.day_head, r.day_counts, dh);
    -- The admin's newer number, then a refill due since, else the count kept here.
    cv := r.credits_version; cr := r.credits_remaining; cp := r.credits_period;
    IF p_cv IS NOT NULL AND (cv IS NULL OR p_cv > cv) THEN
        -- The number set belongs to the period it was set in (p_cv: epoch microseconds).
        cv := p_cv; cr := p_cset;
        cp := quota_period(p_cinterval, p_cv::double precision / 1e6::double precision);
    END IF;
    IF p_cv IS NOT NULL AND p_cinterval IS NOT NULL AND period > cp THEN
        cr := p_camount; cp := period;
    END IF;

    FOR k IN 1 .. p_n LOOP
        fits := (p_minute IS NULL OR (SELECT sum(x) FROM unnest(mc) x) < p_minute)
            AND (SELECT sum(x) FROM unnest(hc) x) < p_hour
            AND (p_day IS NULL OR (SELECT sum(x) FROM unnest(dc) x) < p_day);
        has_credit := p_cv IS NULL OR cr > 0;
        admitted := p_spend AND fits AND has_credit;
        IF admitted THEN
            mc[61] := mc[61] + 1; hc[61] := hc[61] + 1; dc[61] := dc[61] + 1;
            IF p_cv IS NOT NULL THEN cr := cr - 1; END IF;
            taken := taken + 1;
        END IF;
        remaining := '{}'; retry_after := '{}'; reset_after := '{}';
        FOR s IN
            SELECT st.* FROM (VALUES (1, p_minute, 60, mh, mc), (2, p_hour, 3600, hh, hc),
                                     (3, p_day, 86400, dh, dc)) AS v(o, lim, w, head, c),
                 LATERAL quota_status(v.lim, v.w, v.head, v.c, now_s) AS st
            WHERE v.lim IS NOT NULL ORDER BY v.o
        LOOP
            remaining := remaining || s.remaining;
            retry_after := retry_after || s.retry_after;
            reset_after := reset_after || s.reset_after;
        END LOOP;
        out_of_credits := p_spend AND fits AND NOT has_credit;
        credits_remaining := CASE WHEN p_cv IS NOT NULL THEN cr END;
        credits_retry_after := CASE WHEN out_of_credits AND p_cinterval IS NOT NULL THEN
            greatest(1, ceil(quota_period_start(p_cinterval, period + 1) - now_s))::integer END;
        RETURN NEXT;
    END LOOP;

    IF taken > 0 THEN
        -- A window the subject does not have is left as it was.
        UPDATE quota_windows SET
            minute_head = CASE WHEN p_minute IS NULL THEN minute_head ELSE mh END,
            minute_counts = CASE WHEN p_minute IS NULL THEN minute_counts ELSE mc END,
            head_minute = hh, counts = hc,
            day_head = CASE WHEN p_day IS NULL THEN day_head ELSE dh END,
            day_counts = CASE WHEN p_day IS NULL THEN day_counts ELSE dc END,
            credits_version = cv, credits_remaining = cr, credits_period = cp
        WHERE subject = p_subject;
    END IF;
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
