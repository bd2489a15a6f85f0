"""The quota store: quota_take (functions/quota.sql), batched per event-loop turn.

Requests that ask for a decision in the same turn of this process's event loop share
one connection checkout and one statement (quota_take_many); a lone request still
gets its answer in one round trip. Exactness is the SQL function's: each subject's
row is locked while it is counted.

The batch belongs to the event loop that first used the store: a future may only be
resolved on its own loop, so a caller on any other loop (a test, a CLI) gets a
statement of its own instead of joining.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from application.ports.errors import StoreUnavailable
from domain.quota import QuotaDecision

TAKE = "SELECT admitted, remaining, retry_after, reset_after FROM quota_take(%s, %s, %s)"
TAKE_MANY = "SELECT ord, admitted, remaining, retry_after, reset_after FROM quota_take_many(%s, %s)"
MAX_BATCH = 256

Pending = tuple[str, int, "asyncio.Future[QuotaDecision]"]


class PostgresQuotaStore:
    def __init__(self, pool: AsyncConnectionPool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._pending: list[Pending] = []
        self._running: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def take(self, subject: str, limit: int, now: datetime | None = None) -> QuotaDecision:
        """`now` is for tests (one call, that instant); in service the database's clock
        decides, one clock for every process."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        if now is not None or loop is not self._loop:
            return await self._take_at(subject, limit, now)
        future: asyncio.Future[QuotaDecision] = loop.create_future()
        self._pending.append((subject, limit, future))
        if len(self._pending) == 1:
            # Whoever else asks during this turn of the loop joins the same statement.
            loop.call_soon(self._send_batch)
        return await future

    def _send_batch(self) -> None:
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        if self._pending:
            asyncio.get_running_loop().call_soon(self._send_batch)
        task = asyncio.ensure_future(self._run(batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[Pending]) -> None:
        # One order for every batch in every process: rows are locked in that order.
        ordered = sorted(batch, key=lambda p: p[0])
        try:
            async with self._pool.connection(timeout=self._timeout) as conn:
                cur = await conn.execute(
                    TAKE_MANY, ([p[0] for p in ordered], [p[1] for p in ordered])
                )
                rows = await cur.fetchall()
        except StoreUnavailable as exc:
            for _, _, future in ordered:
                if not future.done():
                    future.set_exception(StoreUnavailable(str(exc)))
            return
        except BaseException as exc:
            for _, _, future in ordered:
                if not future.done():
                    if isinstance(exc, asyncio.CancelledError):
                        future.cancel()
                    else:
                        future.set_exception(exc)
            raise
        for (_, limit, future), row in zip(ordered, rows, strict=True):
            if not future.done():
                future.set_result(_decision(limit, row[1:]))

    async def _take_at(self, subject: str, limit: int, now: datetime | None) -> QuotaDecision:
        async with self._pool.connection(timeout=self._timeout) as conn:
            cur = await conn.execute(TAKE, (subject, limit, now))
            row = await cur.fetchone()
        assert row is not None
        return _decision(limit, row)


def _decision(limit: int, row: tuple[bool, int, int, int]) -> QuotaDecision:
    return QuotaDecision(
        admitted=row[0], limit=limit, remaining=row[1], retry_after=row[2], reset_after=row[3]
    )
