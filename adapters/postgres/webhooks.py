"""Webhooks in PostgreSQL: subscriptions and their deliveries (bound to a unit of work),
and the delivery queue the dispatchers share. Events and their pending deliveries are
written by triggers, in the transaction of the change (functions/resource_events.sql)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from application.ports.webhooks import ClaimedDelivery, NewWebhook
from domain.keys import UserId
from domain.pagination import PageRequest
from domain.webhook_retries import AttemptResult, Outcome
from domain.webhooks import Delivery, DeliveryStatus, EventType, Webhook

WEBHOOK_COLUMNS = "id, user_id, url, event_types, is_active, created_at"
INSERT_WEBHOOK = f"""
INSERT INTO webhooks (user_id, url, event_types, secret) VALUES (%s, %s, %s, %s)
RETURNING {WEBHOOK_COLUMNS}
"""
SELECT_WEBHOOK = f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = %s"
# A transaction-scoped lock per user: two subscribes of one user run one after the
# other, so neither misses the other's row when checking duplicates and the cap.
LOCK_USER_WEBHOOKS = "SELECT pg_advisory_xact_lock(hashtextextended('webhooks:' || %s, 0))"
SELECT_USER_WEBHOOKS = f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = %s ORDER BY id"
SELECT_WEBHOOK_PAGE = f"""
SELECT {WEBHOOK_COLUMNS}, count(*) OVER () AS total FROM webhooks
WHERE (%(user_id)s::text IS NULL OR user_id = %(user_id)s)
ORDER BY id LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT_WEBHOOKS = """
SELECT count(*) FROM webhooks WHERE (%(user_id)s::text IS NULL OR user_id = %(user_id)s)
"""
DELETE_WEBHOOK = "DELETE FROM webhooks WHERE id = %s RETURNING id"

DELIVERY_COLUMNS = """
d.id, d.webhook_id, d.event_id, e.event_type, d.message_id, d.status, d.attempts,
d.next_attempt_at, d.last_status_code, d.last_error, d.created_at
"""
SELECT_DELIVERY_PAGE = f"""
SELECT {DELIVERY_COLUMNS}, count(*) OVER () AS total
FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
WHERE d.webhook_id = %(webhook_id)s
ORDER BY d.id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT_DELIVERIES = "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = %(webhook_id)s"

# Row locks keep concurrent claimers apart; the pushed-ahead next_attempt_at keeps the
# row out of every later claim until the lease runs out or the outcome is recorded.
CLAIM_DUE = """
WITH due AS (
    SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND w.is_active
    ORDER BY d.next_attempt_at
    LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1,
    next_attempt_at = now() + make_interval(secs => %(lease)s),
    updated_at = now()
FROM due, webhooks w, webhook_events e
WHERE d.id = due.id AND w.id = d.webhook_id AND e.id = d.event_id
RETURNING d.id, d.webhook_id, d.message_id, d.attempts,
          extract(epoch FROM now() - e.created_at)::float8,
          w.url, w.secret, e.event_type, e.created_at, e.data
"""
# Only a pending delivery is updated: one already finished elsewhere stays as it is.
COMPLETE_DELIVERY = """
WITH d AS (
    UPDATE webhook_deliveries
    SET status = %(status)s,
        next_attempt_at = now() + make_interval(secs => %(retry_in)s),
        last_status_code = %(code)s,
        last_error = %(error)s,
        updated_at = now()
    WHERE id = %(id)s AND status = 'pending'
    RETURNING id
)
INSERT INTO webhook_attempts (delivery_id, status_code, latency_ms, error)
SELECT id, %(code)s, %(latency)s, %(error)s FROM d
"""
DISABLE_WEBHOOK = "UPDATE webhooks SET is_active = false WHERE id = %s"
FAIL_PENDING = """
UPDATE webhook_deliveries
SET status = 'failed', last_error = %s, updated_at = now()
WHERE webhook_id = %s AND status = 'pending'
"""
GONE_MESSAGE = "subscription disabled: the endpoint answered 410 Gone"
ERROR_MAX = 500


def webhook_from_row(row: Sequence[Any]) -> Webhook:
    return Webhook(
        id=row[0],
        user_id=row[1],
        url=row[2],
        event_types=frozenset(EventType(t) for t in row[3]),
        is_active=row[4],
        created_at=row[5],
    )


def delivery_from_row(row: Sequence[Any]) -> Delivery:
    return Delivery(
        id=row[0],
        webhook_id=row[1],
        event_id=row[2],
        event_type=row[3],
        message_id=row[4],
        status=DeliveryStatus(row[5]),
        attempts=row[6],
        next_attempt_at=row[7],
        last_status_code=row[8],
        last_error=row[9],
        created_at=row[10],
    )


def claimed_from_row(row: Sequence[Any]) -> ClaimedDelivery:
    return ClaimedDelivery(
        id=row[0],
        webhook_id=row[1],
        message_id=row[2],
        attempts=row[3],
        age=row[4],
        url=row[5],
        secret=row[6],
        event_type=row[7],
        occurred_at=row[8],
        data=row[9],
    )


async def _page(
    conn: AsyncConnection[TupleRow], select: str, count: str, params: dict[str, Any]
) -> tuple[list[Sequence[Any]], int]:
    cur = await conn.execute(select, params)
    rows = await cur.fetchall()
    if rows:
        return [r[:-1] for r in rows], rows[0][-1]
    # Past the last page the window count is gone with the rows; count apart.
    cur = await conn.execute(count, params)
    total_row = await cur.fetchone()
    return [], total_row[0] if total_row else 0


class PostgresWebhookRepository:
    def __init__(self, conn: AsyncConnection[TupleRow]) -> None:
        self._conn = conn

    async def add(self, new: NewWebhook) -> Webhook:
        cur = await self._conn.execute(
            INSERT_WEBHOOK,
            (new.user_id, new.url, sorted(e.value for e in new.event_types), new.secret),
        )
        row = await cur.fetchone()
        assert row is not None
        return webhook_from_row(row)

    async def get(self, webhook_id: int) -> Webhook | None:
        cur = await self._conn.execute(SELECT_WEBHOOK, (webhook_id,))
        row = await cur.fetchone()
        return webhook_from_row(row) if row else None

    async def subscriptions_of(self, user_id: UserId) -> Sequence[Webhook]:
        await self._conn.execute(LOCK_USER_WEBHOOKS, (user_id,))
        cur = await self._conn.execute(SELECT_USER_WEBHOOKS, (user_id,))
        return [webhook_from_row(r) for r in await cur.fetchall()]

    async def list(
        self, user_id: UserId | None, page: PageRequest
    ) -> tuple[Sequence[Webhook], int]:
        params = {"user_id": user_id, "limit": page.limit, "offset": page.offset}
        rows, total = await _page(self._conn, SELECT_WEBHOOK_PAGE, COUNT_WEBHOOKS, params)
        return [webhook_from_row(r) for r in rows], total

    async def delete(self, webhook_id: int) -> bool:
        cur = await self._conn.execute(DELETE_WEBHOOK, (webhook_id,))
        return await cur.fetchone() is not None

    async def deliveries(
        self, webhook_id: int, page: PageRequest
    ) -> tuple[Sequence[Delivery], int]:
        params = {"webhook_id": webhook_id, "limit": page.limit, "offset": page.offset}
        rows, total = await _page(self._conn, SELECT_DELIVERY_PAGE, COUNT_DELIVERIES, params)
        return [delivery_from_row(r) for r in rows], total


class PostgresDeliveryQueue:
    """Claims and completions, each its own short transaction on a pooled connection."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def claim(self, limit: int, lease_seconds: float) -> Sequence[ClaimedDelivery]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(CLAIM_DUE, {"limit": limit, "lease": lease_seconds})
            return [claimed_from_row(r) for r in await cur.fetchall()]

    async def complete(
        self, delivery: ClaimedDelivery, result: AttemptResult, outcome: Outcome
    ) -> None:
        error = None if result.error is None else result.error[:ERROR_MAX]
        async with self._pool.connection() as conn:
            await conn.execute(
                COMPLETE_DELIVERY,
                {
                    "id": delivery.id,
                    "status": outcome.status.value,
                    "retry_in": outcome.retry_in,
                    "code": result.status_code,
                    "error": error,
                    "latency": result.latency_ms,
                },
            )
            if outcome.disable_webhook:
                await conn.execute(DISABLE_WEBHOOK, (delivery.webhook_id,))
                await conn.execute(FAIL_PENDING, (GONE_MESSAGE, delivery.webhook_id))
