"""The quota store: quota_decide_n (functions/quota.sql), batched per event-loop turn.

Requests that ask for a decision in the same turn of this process's event loop share
one connection checkout and one statement (quota_decide_many); a lone request still
gets its answer in one round trip. Exactness is the SQL function's: each subject's
row is locked while it is decided.

The batch belongs to the event loop that first used the store: a future may only be
resolved on its own loop, so a caller on any other loop (a test, a CLI) gets a
statement of its own instead of joining.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from application.ports.errors import StoreUnavailable
from domain.quota import DAY, HOUR, MINUTE, QuotaDecision, QuotaPolicy, Verdict, WindowStatus

COLUMNS = "admitted, remaining, retry_after, reset_after, credits_remaining,"
COLUMNS += " credits_retry_after, out_of_credits"
DECIDE = f"SELECT {COLUMNS} FROM quota_decide_n(%s, %s, %s, %s, %s, %s, %s, %s, 1, %s, %s)"
DECIDE_MANY = f"SELECT ord, {COLUMNS} FROM quota_decide_many(%s, %s, %s, %s, %s, %s, %s, %s)"
MAX_BATCH = 256

Pending = tuple[str, QuotaPolicy, "asyncio.Future[Verdict]"]


def _arguments(policy: QuotaPolicy) -> tuple[Any, ...]:
    """The policy as quota_decide_n's parameters after the subject."""
    limits = {rule.seconds: rule.limit for rule in policy.windows}
    credits = policy.credits
    refill = credits.refill if credits else None
    return (
        limits.get(MINUTE),
        limits[HOUR],
        limits.get(DAY),
        credits.version if credits else None,
        credits.remaining if credits else None,
        refill.interval if refill else None,
        refill.amount if refill else None,
    )


def _verdict(policy: QuotaPolicy, row: tuple[Any, ...]) -> Verdict:
    admitted, remaining, retry, reset, credits, credits_retry, out_of_credits = row
    windows = tuple(
        WindowStatus(rule.name, rule.limit, rule.seconds, remaining[i], retry[i], reset[i])
        for i, rule in enumerate(policy.windows)
    )
    return Verdict(admitted, windows, credits, credits_retry, out_of_credits)


class PostgresQuotaStore:
    def __init__(self, pool: AsyncConnectionPool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._pending: list[Pending] = []
        self._running: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def decide(
        self, subject: str, policy: QuotaPolicy, now: datetime | None = None
    ) -> Verdict:
        """`now` is for tests (one call, that instant); in service the database's clock
        decides, one clock for every process."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        if now is not None or loop is not self._loop:
            return await self._one(subject, policy, now, spend=True)
        future: asyncio.Future[Verdict] = loop.create_future()
        self._pending.append((subject, policy, future))
        if len(self._pending) == 1:
            # Whoever else asks during this turn of the loop joins the same statement.
            loop.call_soon(self._send_batch)
        return await future

    async def look(self, subject: str, policy: QuotaPolicy, now: datetime | None = None) -> Verdict:
        return await self._one(subject, policy, now, spend=False)

    async def take(self, subject: str, limit: int, now: datetime | None = None) -> QuotaDecision:
        """One hourly window alone, in the single-window shape."""
        verdict = await self.decide(subject, QuotaPolicy.hourly(limit), now)
        hour = verdict.windows[0]
        return QuotaDecision(
            verdict.admitted, limit, hour.remaining, hour.retry_after, hour.reset_after
        )

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
        columns = list(zip(*(_arguments(p[1]) for p in ordered), strict=True))
        try:
            async with self._pool.connection(timeout=self._timeout) as conn:
                cur = await conn.execute(
                    DECIDE_MANY, ([p[0] for p in ordered], *(list(c) for c in columns))
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
        for (_, policy, future), row in zip(ordered, rows, strict=True):
            if not future.done():
                future.set_result(_verdict(policy, row[1:]))

    async def _one(
        self, subject: str, policy: QuotaPolicy, now: datetime | None, *, spend: bool
    ) -> Verdict:
        async with self._pool.connection(timeout=self._timeout) as conn:
            cur = await conn.execute(DECIDE, (subject, *_arguments(policy), now, spend))
            row = await cur.fetchone()
        assert row is not None
        return _verdict(policy, row)
