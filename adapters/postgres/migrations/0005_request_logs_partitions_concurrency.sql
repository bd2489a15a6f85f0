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
