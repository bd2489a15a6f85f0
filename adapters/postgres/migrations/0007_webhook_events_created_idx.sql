-- Retention (adapters/postgres/retention.py) takes the oldest webhook events first; this
-- lets each batch start there instead of scanning the outbox.
CREATE INDEX webhook_events_created_idx ON webhook_events (created_at);
