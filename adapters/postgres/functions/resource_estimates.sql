-- The planner's estimate of how many resources match a search, for list totals in the
-- `planned` and `estimated` count modes (adapters/postgres/resource_list.py). Counting
-- every match of a term found in a third of the table was what made searches slow; the
-- planner's figure costs one EXPLAIN.
--
-- The condition is built here, from the same two filters the list statement uses, with
-- every value quoted by format('%L'): EXPLAIN takes no bound parameters.
-- VOLATILE because PostgreSQL allows EXPLAIN only there; it reads, never writes.

CREATE OR REPLACE FUNCTION resources_planned_rows(
    pattern text, category text, by_fields boolean
) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    condition text;
    plan jsonb;
BEGIN
    IF by_fields THEN
        -- A term holding search_text's separator is matched field by field.
        condition := format(
            '(name ILIKE %1$L ESCAPE ''\'' OR description ILIKE %1$L ESCAPE ''\'')', $1);
    ELSE
        condition := format('search_text LIKE lower(%L) ESCAPE ''\''', $1);
    END IF;
    IF $2 IS NOT NULL THEN
        condition := condition || format(' AND category = %L', $2);
    END IF;
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM resources WHERE ' || condition INTO plan;
    RETURN round((plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric)::bigint;
END $$;

COMMENT ON FUNCTION resources_planned_rows(text, text, boolean) IS
    'The planner''s estimate of the resources a list search matches (pattern as the list '
    'statement binds it, optional category, by_fields for a term holding the separator).';
