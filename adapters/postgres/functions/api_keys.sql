-- Every change to a key that authentication depends on reaches every instance's key
-- cache at once (adapters/postgres/key_cache.py listens), whoever made it: API, CLI or
-- an operator's SQL. The payload is the key's hash, or '*' for all of them.

CREATE OR REPLACE FUNCTION api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    channel constant text := 'keygate_api_keys';
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify(channel, '*');
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify(channel, OLD.key_hash);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND (TG_OP = 'INSERT' OR NEW.key_hash <> OLD.key_hash) THEN
        PERFORM pg_notify(channel, NEW.key_hash);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER api_keys_changed_row AFTER INSERT OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_notify();
-- last_used_at alone changes nothing authentication reads, so it notifies nobody. Every
-- other column is part of the key the cache hands out (a PATCH, a rotation's grace
-- period and the windows of migration 0013 included; credits change with their
-- version, migration 0015).
CREATE OR REPLACE TRIGGER api_keys_changed_update AFTER UPDATE ON api_keys
    FOR EACH ROW
    WHEN ((OLD.user_id, OLD.key_hash, OLD.name, OLD.permissions, OLD.rate_limit,
           OLD.rate_limit_per_minute, OLD.rate_limit_per_day, OLD.expires_at,
           OLD.is_active, OLD.replaced_by, OLD.credits_version)
          IS DISTINCT FROM
          (NEW.user_id, NEW.key_hash, NEW.name, NEW.permissions, NEW.rate_limit,
           NEW.rate_limit_per_minute, NEW.rate_limit_per_day, NEW.expires_at,
           NEW.is_active, NEW.replaced_by, NEW.credits_version))
    EXECUTE FUNCTION api_keys_notify();
CREATE OR REPLACE TRIGGER api_keys_truncated AFTER TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION api_keys_notify();

COMMENT ON FUNCTION api_keys_notify() IS
'Trigger (api_keys_changed_row/update, api_keys_truncated): NOTIFY keygate_api_keys with the '
'old and new key hash of a changed key, or ''*'' when the table was emptied.';
