-- The quota decision with leases (issue 18): quota_decide_n's arithmetic (quota.sql),
-- which is now a call of quota_lease_n with no lease, plus blocks of quota handed to one
-- worker to admit from without asking again, so that a busy key's row is written about
-- once a lease instead of once a batch. Every row update leaves a dead version that a
-- transaction open anywhere on the server keeps from being pruned, and the next
-- decision walks them all; fewer writes, shorter walks.
--
-- A lease of g is g admissions counted at once, in the buckets in progress, against
-- every window. The worker may admit them until the earliest of those buckets ends
-- (lease_until): admitted inside their bucket, they are exactly g requests decided
-- there, so no window's limit can be passed. What it did not use it gives back (p_ret,
-- from the lease made at p_ret_at): the buckets lose that many again. A lease is only
-- made far from every limit (at most 1/64 of what is left, and at least 16), so near a
-- limit every request is decided here, one by one. A metered key is never leased: N
-- credits admit exactly N requests, however they race, only if every one is decided
-- here (a credit leased to one worker would be missing to another).

-- The count of `bucket` lowered by n in a window whose newest bucket is `head`; a bucket
-- that has left the window is gone already.
CREATE OR REPLACE FUNCTION quota_give_back(c integer[], head bigint, bucket bigint, n integer)
RETURNS integer[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF c IS NOT NULL AND bucket <= head AND head - bucket < 61 THEN
        c[61 - (head - bucket)] := greatest(0, c[61 - (head - bucket)] - n);
    END IF;
    RETURN c;
END $$;

CREATE OR REPLACE FUNCTION quota_lease_n(
    p_subject text, p_minute integer, p_hour integer, p_day integer,
    p_cv bigint, p_cset integer, p_cinterval text, p_camount integer,
    p_n integer, p_want integer, p_ret integer, p_ret_at double precision,
    p_now timestamptz DEFAULT NULL, p_spend boolean DEFAULT true
)
RETURNS TABLE (admitted boolean, remaining integer[], retry_after integer[],
               reset_after integer[], credits_remaining integer,
               credits_retry_after integer, out_of_credits boolean,
               lease integer, lease_at double precision, lease_until double precision)
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
    room integer;
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

    IF p_spend AND p_ret > 0 THEN
        IF p_minute IS NOT NULL THEN
            mc := quota_give_back(mc, mh, floor(p_ret_at)::bigint, p_ret);
        END IF;
        hc := quota_give_back(hc, hh, floor(p_ret_at / 60)::bigint, p_ret);
        IF p_day IS NOT NULL THEN
            dc := quota_give_back(dc, dh, floor(p_ret_at / 1440)::bigint, p_ret);
        END IF;
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
        lease := 0;
        -- After the last decision, what is left decides the lease (the answers above
        -- are without it: the worker counts its own admissions down from them). Only in
        -- the buckets of this instant, so that lease_until is where they end.
        IF k = p_n AND p_spend AND coalesce(p_want, 0) > 0 AND p_cv IS NULL
           AND hh = floor(now_s / 60)
           AND (p_minute IS NULL OR mh = floor(now_s))
           AND (p_day IS NULL OR dh = floor(now_s / 1440)) THEN
            room := least(remaining[1], remaining[2], remaining[3]);
            lease := least(p_want, room / 64);
            IF lease >= 16 THEN
                mc[61] := mc[61] + lease; hc[61] := hc[61] + lease; dc[61] := dc[61] + lease;
                taken := taken + lease;
                lease_at := now_s;
                lease_until := least(CASE WHEN p_minute IS NOT NULL THEN mh + 1.0 END,
                                     (hh + 1) * 60.0,
                                     CASE WHEN p_day IS NOT NULL THEN (dh + 1) * 1440.0 END);
            ELSE
                lease := 0;
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;

    IF taken > 0 OR (p_spend AND p_ret > 0) THEN
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

-- One statement per batch of a worker: entry i decides p_n[i] requests of p_subjects[i]
-- (0: only gives a lease back), asks for a lease of up to p_want[i] and gives back
-- p_ret[i] of the lease made at p_ret_at[i]. Callers sort the entries by subject, so
-- concurrent batches lock rows in one order and cannot deadlock.
CREATE OR REPLACE FUNCTION quota_lease_many(
    p_subjects text[], p_minute integer[], p_hour integer[], p_day integer[],
    p_cv bigint[], p_cset integer[], p_cinterval text[], p_camount integer[],
    p_n integer[], p_want integer[], p_ret integer[], p_ret_at double precision[]
)
RETURNS TABLE (ord integer, admitted boolean, remaining integer[], retry_after integer[],
               reset_after integer[], credits_remaining integer,
               credits_retry_after integer, out_of_credits boolean,
               lease integer, lease_at double precision, lease_until double precision)
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_subjects, 1), 0) LOOP
        ord := i - 1;
        FOR admitted, remaining, retry_after, reset_after, credits_remaining,
            credits_retry_after, out_of_credits, lease, lease_at, lease_until IN
            SELECT * FROM quota_lease_n(p_subjects[i], p_minute[i], p_hour[i], p_day[i],
                p_cv[i], p_cset[i], p_cinterval[i], p_camount[i],
                p_n[i], p_want[i], p_ret[i], p_ret_at[i])
        LOOP
            RETURN NEXT;
        END LOOP;
    END LOOP;
END $$;

COMMENT ON FUNCTION quota_give_back(integer[], bigint, bigint, integer) IS
'A window''s counts with n taken off bucket (a lease given back); unchanged once the '
'bucket has left the window whose newest bucket is head.';
COMMENT ON FUNCTION quota_lease_n(text, integer, integer, integer, bigint, integer, text,
                                  integer, integer, integer, integer, double precision,
                                  timestamptz, boolean) IS
'quota_decide_n''s p_n decisions, after giving back p_ret of the lease made at p_ret_at; '
'the last row carries a lease of up to p_want admissions, counted now in every window, '
'usable until lease_until (epoch seconds): 0 unless the key is unmetered, at most 1/64 '
'of the least left and at least 16.';
COMMENT ON FUNCTION quota_lease_many(text[], integer[], integer[], integer[], bigint[],
                                     integer[], text[], integer[], integer[], integer[],
                                     integer[], double precision[]) IS
'A worker''s batch: quota_lease_n per entry i, answered with ord = i - 1.';
