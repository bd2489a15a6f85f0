"""Retention against real PostgreSQL: expired rows go, live ones stay."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg

from adapters.background import PeriodicTask
from adapters.clock import SystemClock
from adapters.postgres.retention import PostgresExpiredRecords
from application.retention import PurgeExpired, PurgeResult
from entrypoints.container import Container

INSERT_KEY = """
INSERT INTO idempotency_keys (user_id, key, request_hash, expires_at)
VALUES (%s, %s, 'hash', now() + make_interval(secs => %s))
"""


def idempotency_keys(db: str) -> set[str]:
    with psycopg.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT key FROM idempotency_keys")}


def add_keys(db: str, **expires_in_seconds: float) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        for key, seconds in expires_in_seconds.items():
            conn.execute(INSERT_KEY, ("alice", key, seconds))


class Outbox:
    """Webhook events and deliveries written straight into the tables, at chosen ages."""

    def __init__(self, conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
        self.conn = conn
        self.hooks = [
            self._one(
                "INSERT INTO webhooks (user_id, url, event_types, secret)"
                " VALUES ('alice', %s, ARRAY['resource.created'], 'whsec_x') RETURNING id",
                (f"https://hooks.example.com/{i}",),
            )
            for i in range(2)
        ]

    def _one(self, query: str, params: tuple[object, ...]) -> int:
        row = self.conn.execute(query, params).fetchone()
        assert row is not None
        return int(row[0])

    def event(self, days_ago: float, *deliveries: tuple[str, float | None]) -> int:
        """An event and one delivery per (status, days since it ended) pair."""
        event = self._one(
            "INSERT INTO webhook_events (event_type, data, created_at)"
            " VALUES ('resource.created', '{}', now() - %s * interval '1 day')"
            " RETURNING id",
            (days_ago,),
        )
        for hook, (status, ended) in zip(self.hooks, deliveries, strict=False):
            delivery = self._one(
                "INSERT INTO webhook_deliveries"
                " (webhook_id, event_id, message_id, status, attempts, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, 1, now() - %s * interval '1 day',"
                "         now() - %s * interval '1 day') RETURNING id",
                (hook, event, f"msg_{event}_{hook}", status, days_ago, ended or 0),
            )
            self.conn.execute(
                "INSERT INTO webhook_attempts (delivery_id, status_code, latency_ms)"
                " VALUES (%s, 200, 1)",
                (delivery,),
            )
        return event

    def ids(self, table: str) -> set[int]:
        return {r[0] for r in self.conn.execute(f"SELECT id FROM {table}")}


async def test_expired_idempotency_records_go_and_live_ones_stay(
    open_container: Container, db: str
) -> None:
    add_keys(db, expired=-60, just_expired=0, live=3600, almost=23 * 3600)
    result = await open_container.purge_expired()()
    assert result.idempotency_keys == 2
    assert idempotency_keys(db) == {"live", "almost"}


async def test_finished_webhook_events_go_after_the_retention_with_their_deliveries(
    open_container: Container, db: str
) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        outbox = Outbox(conn)
        gone = {
            outbox.event(10, ("succeeded", 9.9)),
            outbox.event(10, ("failed", 8)),
            outbox.event(10, ("succeeded", 9), ("failed", 7.5)),
            outbox.event(30),  # its subscription was deleted, and its deliveries with it
        }
        kept = {
            outbox.event(10, ("pending", None)),
            outbox.event(10, ("succeeded", 9), ("pending", None)),
            outbox.event(10, ("succeeded", 9), ("succeeded", 1)),
            outbox.event(10, ("failed", 6)),
            outbox.event(2, ("succeeded", 2)),
        }
        kept_deliveries = len(outbox.ids("webhook_deliveries")) - 4

        result = await open_container.purge_expired()()

        assert result.webhook_events == len(gone)
        assert outbox.ids("webhook_events") == kept
        # Attempts went with their deliveries, deliveries with their events.
        assert len(outbox.ids("webhook_deliveries")) == kept_deliveries
        assert len(outbox.ids("webhook_attempts")) == kept_deliveries
        assert (await open_container.purge_expired()()) == PurgeResult(0, 0)


async def test_a_run_deletes_in_batches_and_leaves_the_rest_for_the_next(
    open_container: Container, db: str
) -> None:
    add_keys(db, **{f"old-{i}": -60 for i in range(5)}, live=3600)
    purge = PurgeExpired(
        PostgresExpiredRecords(open_container.pool()),
        SystemClock(),
        webhook_retention=timedelta(days=7),
        audit_retention=timedelta(days=365),
        batch=2,
        max_batches=2,
    )
    assert (await purge()).idempotency_keys == 4
    assert (await purge()).idempotency_keys == 1
    assert idempotency_keys(db) == {"live"}


async def test_a_record_locked_by_a_request_is_skipped_not_waited_for(
    open_container: Container, db: str
) -> None:
    add_keys(db, busy=-60, idle=-60)
    with psycopg.connect(db) as request:
        request.execute("SELECT 1 FROM idempotency_keys WHERE key = 'busy' FOR UPDATE")
        result = await asyncio.wait_for(open_container.purge_expired()(), 5)
        request.rollback()
    assert result.idempotency_keys == 1
    assert idempotency_keys(db) == {"busy"}


def test_serve_runs_the_purge_as_a_periodic_service(container: Container) -> None:
    jobs = [s._job for s in container.services() if isinstance(s, PeriodicTask)]
    assert container.purge_expired() in jobs
