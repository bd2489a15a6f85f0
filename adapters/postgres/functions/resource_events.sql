-- Webhook events for resource changes are recorded by the database, in the writing
-- statement's own transaction, instead of by a second statement from the use case.
-- A create or an unconditional replace is then one statement in autocommit mode
-- (no BEGIN, outbox statement, COMMIT): measured in bench/README.md. It also means
-- every change is announced, whoever makes it (API, CLI, operator SQL, bulk COPY).
--
-- An event nobody subscribes to is not stored: webhook_events holds only work to do.
-- Every UPDATE announces the rows it touched, even one that changed nothing, and a
-- migration that rewrites resource rows would announce them all:
-- `SET LOCAL keygate.resource_events = 'off'` keeps a transaction quiet. TRUNCATE
-- announces nothing (no rows to describe).

-- ISO 8601 in UTC exactly as the API writes times (Python's isoformat with 'Z':
-- microseconds only when there are any), so an event's data equals the API's body.
CREATE OR REPLACE FUNCTION keygate_iso_utc(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN extract(microseconds FROM t)::bigint % 1000000 = 0 THEN ''
                ELSE to_char(t AT TIME ZONE 'UTC', '.US') END
        || 'Z'
$$;

-- The resource as clients see it (camelCase, the API's key order).
CREATE OR REPLACE FUNCTION resource_event_data(r resources) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', r.id, 'name', r.name, 'description', r.description,
        'category', r.category, 'metadata', r.metadata, 'createdBy', r.created_by,
        'createdAt', keygate_iso_utc(r.created_at), 'updatedAt', keygate_iso_utc(r.updated_at))
$$;

-- Parameters are referred to by position: in a SQL function a column of the same
-- name would win over a parameter's name.
CREATE OR REPLACE FUNCTION resource_events_wanted(kind text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT lower(coalesce(current_setting('keygate.resource_events', true), '')) <> 'off'
       AND EXISTS (SELECT 1 FROM webhooks WHERE is_active AND event_types @> ARRAY[$1])
$$;

CREATE OR REPLACE FUNCTION webhook_deliveries_queue(kind text, event_ids bigint[]) RETURNS bigint
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
CREATE OR REPLACE FUNCTION resource_events_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE TRIGGER resource_events_insert AFTER INSERT ON resources
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION resource_events_recorded();
CREATE OR REPLACE TRIGGER resource_events_update AFTER UPDATE ON resources
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION resource_events_recorded();
CREATE OR REPLACE TRIGGER resource_events_delete AFTER DELETE ON resources
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION resource_events_recorded();

COMMENT ON FUNCTION keygate_iso_utc(timestamptz) IS
't as the API writes times: ISO 8601 in UTC with Z, microseconds only when non-zero.';
COMMENT ON FUNCTION resource_event_data(resources) IS
'A resource row as the API''s JSON body (camelCase, the API''s key order): webhook event data.';
COMMENT ON FUNCTION resource_events_wanted(text) IS
'Whether events of this type are to be recorded now: some active webhook subscribes to it and '
'the transaction has not SET LOCAL keygate.resource_events = ''off''.';
COMMENT ON FUNCTION webhook_deliveries_queue(text, bigint[]) IS
'Queues one pending delivery per active subscription to kind for each of event_ids (in that '
'order); returns how many.';
COMMENT ON FUNCTION resource_events_recorded() IS
'Trigger (resource_events_insert/update/delete): one webhook event per row a statement '
'created, updated or deleted, and its deliveries, in the statement''s transaction.';
