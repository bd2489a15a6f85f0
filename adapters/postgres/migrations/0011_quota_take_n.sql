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
