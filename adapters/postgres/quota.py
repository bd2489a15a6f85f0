"""The quota store: one call of quota_take (see the migrations) per request."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg_pool import AsyncConnectionPool

from application.quota import QuotaStoreUnavailable
from domain.quota import QuotaDecision

TAKE = "SELECT admitted, remaining, retry_after, reset_after FROM quota_take(%s, %s, %s)"


class PostgresQuotaStore:
    def __init__(self, pool: AsyncConnectionPool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    async def take(self, subject: str, limit: int, now: datetime | None = None) -> QuotaDecision:
        """`now` is for tests; in service the database's clock decides, one for all."""
        try:
            async with self._pool.connection(timeout=self._timeout) as conn:
                cur = await conn.execute(TAKE, (subject, limit, now))
                row = await cur.fetchone()
        except (psycopg.OperationalError, OSError) as exc:
            raise QuotaStoreUnavailable(str(exc)) from exc
        assert row is not None
        return QuotaDecision(
            admitted=row[0], limit=limit, remaining=row[1], retry_after=row[2], reset_after=row[3]
        )
