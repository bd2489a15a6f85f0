-- Key lifecycle (issue 15): windows beside the hourly limit, rotation with a grace
-- period, and an audit log. expires_at exists since 0001; expiry is judged against the
-- clock whenever a key is presented, so nothing here runs when a key expires.

-- NULL: the key has no such window. Enforced by the quota step once it knows them.
ALTER TABLE api_keys
    ADD COLUMN rate_limit_per_minute integer CHECK (rate_limit_per_minute > 0),
    ADD COLUMN rate_limit_per_day integer CHECK (rate_limit_per_day > 0),
    -- The key a rotation replaced this one with. Set exactly once (a rotation of a
    -- rotated key is refused), and UNIQUE: no key succeeds two others.
    ADD COLUMN replaced_by integer UNIQUE REFERENCES api_keys (id) ON DELETE SET NULL;

-- One row per change to a key or webhook subscription, written in the transaction of
-- the change (adapters/postgres/uow.py). Never a raw key, hash or secret. No foreign
-- keys: the log outlives what it tells of.
CREATE TABLE audit_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    action        text NOT NULL CHECK (action IN ('key.issued', 'key.rotated', 'key.revoked',
                                                  'key.updated', 'webhook.created',
                                                  'webhook.deleted')),
    actor_user_id text NOT NULL,
    actor_key_id  integer,
    actor_via     text NOT NULL CHECK (actor_via IN ('api', 'cli', 'dashboard')),
    target_type   text NOT NULL CHECK (target_type IN ('key', 'webhook')),
    target_id     integer NOT NULL,
    ip            text,
    request_id    text,
    changes       jsonb
);
-- Listings are newest first (id DESC), filtered by action or by target.
CREATE INDEX audit_events_action_idx ON audit_events (action, id);
CREATE INDEX audit_events_target_idx ON audit_events (target_id, target_type, id);
-- Retention deletes the oldest first.
CREATE INDEX audit_events_at_idx ON audit_events (at);
