"""Retention deletes in PostgreSQL: each call is one batch in one short transaction (the
pool's connections autocommit). SKIP LOCKED lets every worker's purge run at once
without waiting on each other, or on a request that holds one of the rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

# A claim may be reusing an expired record right now (adapters/postgres/idempotency.py):
# it holds the row locked, so it is skipped here and lives on with its new expiry.
DELETE_EXPIRED_IDEMPOTENCY_KEYS = """
WITH expired AS (
    SELECT user_id, key FROM idempotency_keys
    WHERE expires_at <= now()
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
DELETE FROM idempotency_keys k USING expired
WHERE k.user_id = expired.user_id AND k.key = expired.key
"""

# A delivery never returns to pending once it has ended, so an event found finished
# stays finished. Its deliveries and their attempts go with it (ON DELETE CASCADE).
# Events that lost every delivery when their subscription was deleted go too.
DELETE_FINISHED_WEBHOOK_EVENTS = """
WITH finished AS (
    SELECT e.id FROM webhook_events e
    WHERE e.created_at < %(before)s
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries d
          WHERE d.event_id = e.id AND (d.status = 'pending' OR d.updated_at >= %(before)s)
      )
    ORDER BY e.created_at
    LIMIT %(limit)s
    FOR UPDATE OF e SKIP LOCKED
)
DELETE FROM webhook_events e USING finished WHERE e.id = finished.id
"""

# Oldest first, by the index on at; nothing else locks audit rows, but SKIP LOCKED lets
# every worker's purge run at once.
DELETE_OLD_AUDIT_EVENTS = """
WITH old AS (
    SELECT id FROM audit_events WHERE at < %(before)s
    ORDER BY at LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
DELETE FROM audit_events a USING old WHERE a.id = old.id
"""

# Oldest hours first, by the index on hour. Deltas of such old hours still waiting for
# the compaction become rollup rows then, and go in a later run.
DELETE_OLD_USAGE = """
WITH old AS (
    SELECT api_key_id, hour, {column} FROM {table} WHERE hour < %(before)s
    ORDER BY hour LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
DELETE FROM {table} u USING old
WHERE u.api_key_id = old.api_key_id AND u.hour = old.hour AND u.{column} = old.{column}
"""
DELETE_OLD_USAGE_STATUS = DELETE_OLD_USAGE.format(table="usage_status", column="status_code")
DELETE_OLD_USAGE_LATENCY = DELETE_OLD_USAGE.format(table="usage_latency", column="bucket")


class PostgresExpiredRecords:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def delete_expired_idempotency_keys(self, limit: int) -> int:
        return await self._delete(DELETE_EXPIRED_IDEMPOTENCY_KEYS, {"limit": limit})

    async def delete_finished_webhook_events(self, ended_before: datetime, limit: int) -> int:
        params = {"before": ended_before, "limit": limit}
        return await self._delete(DELETE_FINISHED_WEBHOOK_EVENTS, params)

    async def delete_old_audit_events(self, before: datetime, limit: int) -> int:
        return await self._delete(DELETE_OLD_AUDIT_EVENTS, {"before": before, "limit": limit})

    async def delete_old_usage_rollups(self, before: datetime, limit: int) -> int:
        deleted = await self._delete(DELETE_OLD_USAGE_STATUS, {"before": before, "limit": limit})
        if deleted < limit:
            params = {"before": before, "limit": limit - deleted}
            deleted += await self._delete(DELETE_OLD_USAGE_LATENCY, params)
        return deleted

    async def _delete(self, statement: str, params: dict[str, Any]) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute(statement, params)
            return max(cur.rowcount, 0)
