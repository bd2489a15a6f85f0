-- request_logs is range-partitioned by UTC day (migration 0001); this makes the
-- partitions ahead of time. Every worker calls it at start and then hourly
-- (adapters/postgres/request_logs.py).

-- Callers in several processes take turns on an advisory lock. Without turns, a
-- second caller that checked before the first committed would queue for the ACCESS
-- EXCLUSIVE lock on request_logs that CREATE TABLE ... PARTITION OF takes, and every
-- request-log write and read arriving after it would queue behind it; once the first
-- commits it would take that lock only to fail on a duplicate name. Waiting on the
-- advisory lock instead, it finds the partitions made and never asks for the table.
CREATE OR REPLACE FUNCTION request_logs_ensure_partitions(first_day date, days integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    -- An arbitrary constant naming this lock in pg_locks (the migrations' is 7253118420).
    -- Transaction-scoped: held until the caller commits what it created.
    partitions_lock constant bigint := 7253118421;
    day date;
    created integer := 0;
    part text;
BEGIN
    PERFORM pg_advisory_xact_lock(partitions_lock);
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

COMMENT ON FUNCTION request_logs_ensure_partitions(date, integer) IS
'Creates the daily partitions request_logs_pYYYYMMDD for days first_day .. first_day + days - 1 '
'(UTC) that do not exist yet, one caller at a time; returns how many it created. A day whose '
'rows already sit in the default partition is left there.';
