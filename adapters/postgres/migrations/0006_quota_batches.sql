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
