"""request_logs: a bounded in-memory buffer written by COPY in batches, off the hot path.

While the database is away rows stay buffered and are retried; only past the bound
are the oldest dropped, counted and reported. stop() writes what is pending.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import psycopg
import psycopg.errors
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from application.ports.errors import StoreError, UnstorableValue
from domain.request_log import LoggedRequest, PruneResult, RequestLogEntry, UsageCounts

log = logging.getLogger(__name__)

COPY_ROWS = (
    "COPY request_logs (method, path, status_code, response_time_ms, ip_address,"
    " api_key_id, created_at) FROM STDIN"
)
ENSURE_PARTITIONS = "SELECT request_logs_ensure_partitions(%s, %s)"
PARTITIONS_AHEAD_DAYS = 7
# Rows formatted between two yields to the event loop: a flush of 4,000 rows in one
# go held the worker's loop for 13-18 ms, and every request waiting meanwhile paid it
# (measured: 1.6-1.9 ms in slices of 100).
ROWS_PER_SLICE = 100
# How long shutdown waits for an unreachable database; the server's own kill timeout
# (entrypoints/cli/server.py) must leave room for it.
DRAIN_SECONDS = 10.0

Row = tuple[str, str, int, float, str | None, int | None, datetime]


def _refused(exc: StoreError) -> bool:
    """The table refuses a row: a value it cannot hold, or a key that is gone."""
    return isinstance(exc, UnstorableValue) or isinstance(exc.__cause__, psycopg.IntegrityError)


class PostgresRequestLogSink:
    def __init__(
        self, pool: AsyncConnectionPool, *, max_buffer: int, batch_size: int = 5000
    ) -> None:
        self._pool = pool
        self._max_buffer = max_buffer
        self._batch_size = batch_size
        self._buffer: deque[Row] = deque()
        self._lock = asyncio.Lock()
        self.dropped = 0
        self._reported_dropped = 0
        self.written = 0
        # Set once the server has taken the COPY in progress (autocommit: it is committed).
        self._landed = False
        self._in_flight = 0  # rows taken from the buffer by the write in progress

    @property
    def pending(self) -> int:
        """Rows not written yet: buffered, or in a write that has not landed."""
        return len(self._buffer) + self._in_flight

    def record(self, entry: RequestLogEntry) -> None:
        # Called in every request's path: no I/O and no logging here; flush() reports drops.
        if len(self._buffer) >= self._max_buffer:
            self._buffer.popleft()
            self.dropped += 1
        path, ip = entry.path, entry.ip_address
        # PostgreSQL text cannot hold NUL, and a percent-decoded path can (/api/%00).
        if "\x00" in path:
            path = path.replace("\x00", "\ufffd")
        if ip and "\x00" in ip:
            ip = ip.replace("\x00", "\ufffd")
        self._buffer.append(
            (
                entry.method,
                path,
                entry.status_code,
                entry.response_time_ms,
                ip,
                entry.api_key_id,
                entry.created_at,
            )
        )

    async def flush(self) -> bool:
        """Write everything buffered; False when the database refused (rows kept)."""
        async with self._lock:
            self._report_drops()
            while self._buffer:
                count = min(self._batch_size, len(self._buffer))
                batch = [self._buffer.popleft() for _ in range(count)]
                self._landed = False
                self._in_flight = count
                try:
                    await self._copy(batch)
                except StoreError as exc:
                    if _refused(exc):
                        # A row the table refuses must not hold back every row after it.
                        written = await self._salvage(batch)
                        self.written += written
                        self.dropped += count - written
                        continue
                    self._put_back(batch)
                    log.warning(
                        "request log write failed (%s); %d rows kept for retry",
                        type(exc).__name__,
                        len(self._buffer),
                    )
                    return False
                except BaseException:
                    # Cancelled mid-write (a drain deadline): a batch the server took is
                    # counted, one it may not have taken goes back for the next attempt.
                    if self._landed:
                        self.written += count
                    else:
                        self._put_back(batch)
                    raise
                finally:
                    self._in_flight = 0
                self.written += count
        return True

    def _report_drops(self) -> None:
        if self.dropped > self._reported_dropped:
            log.error(
                "request log buffer full (%d rows): %d rows dropped since last report, %d in all",
                self._max_buffer,
                self.dropped - self._reported_dropped,
                self.dropped,
            )
            self._reported_dropped = self.dropped

    async def _copy(self, batch: list[Row]) -> None:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            async with cur.copy(COPY_ROWS) as copy:
                for done, row in enumerate(batch, 1):
                    await copy.write_row(row)
                    if done % ROWS_PER_SLICE == 0:
                        await asyncio.sleep(0)
            self._landed = True

    async def _salvage(self, batch: list[Row]) -> int:
        """Write what can be written of a refused batch, halving it down to single rows;
        returns the rows written. A row whose key was deleted meanwhile loses only its key."""
        try:
            await self._copy(batch)
            return len(batch)
        except StoreError as exc:
            if not _refused(exc):
                raise
            if len(batch) > 1:
                half = len(batch) // 2
                return await self._salvage(batch[:half]) + await self._salvage(batch[half:])
            row = batch[0]
            if isinstance(exc.__cause__, psycopg.errors.ForeignKeyViolation) and row[5] is not None:
                return await self._salvage([(*row[:5], None, row[6])])
            log.error("request log row refused and dropped (%s): %r", exc, row)
            return 0

    def _put_back(self, batch: list[Row]) -> None:
        room = self._max_buffer - len(self._buffer)
        keep = batch[-room:] if room > 0 else []
        self.dropped += len(batch) - len(keep)
        self._buffer.extendleft(reversed(keep))

    async def ensure_partitions(self) -> None:
        today = datetime.now(UTC).date()
        # Yesterday (a clock a little behind), today, and the days ahead.
        days = 1 + 1 + PARTITIONS_AHEAD_DAYS
        async with self._pool.connection() as conn:
            await conn.execute(ENSURE_PARTITIONS, (today - timedelta(days=1), days))

    async def drain(self, deadline: float = DRAIN_SECONDS, retry_delay: float = 0.5) -> None:
        """At shutdown: keep trying until `deadline` seconds have passed, then report
        what could not be written (the process is about to exit and take it along)."""
        try:
            async with asyncio.timeout(deadline):
                while True:
                    if await self.flush():
                        break
                    await asyncio.sleep(retry_delay)
        except TimeoutError:
            pass
        self._report_drops()
        if self._buffer:
            log.error("shutdown: %d request log rows could not be written", len(self._buffer))


USAGE_BY_HOUR = """
SELECT date_trunc('hour', created_at), count(*) FROM request_logs
WHERE api_key_id = %s AND created_at >= %s GROUP BY 1
"""
USAGE_BY_STATUS = """
SELECT status_code, count(*) FROM request_logs
WHERE api_key_id = %s AND created_at >= %s GROUP BY 1
"""
USAGE_LATENCY = """
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time_ms)
FROM request_logs WHERE api_key_id = %s AND created_at >= %s
"""
RECENT = """
SELECT id, method, path, status_code, response_time_ms, ip_address, api_key_id, created_at
FROM request_logs
WHERE (%(all_keys)s OR api_key_id = ANY(%(key_ids)s))
  AND (%(status_class)s::integer IS NULL OR status_code / 100 = %(status_class)s)
ORDER BY created_at DESC, id DESC LIMIT %(limit)s
"""
PARTITIONS = """
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'request_logs'::regclass AND c.relname ~ '^request_logs_p[0-9]{8}$'
"""
DELETE_OLDER = "DELETE FROM request_logs WHERE created_at < %s"


def _partition_end(name: str) -> datetime:
    day = datetime.strptime(name.removeprefix("request_logs_p"), "%Y%m%d").replace(tzinfo=UTC)
    return day + timedelta(days=1)


class PostgresRequestLogQueries:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def usage_counts(self, key_id: int, since: datetime) -> UsageCounts:
        async with self._pool.connection() as conn:
            hours = await (await conn.execute(USAGE_BY_HOUR, (key_id, since))).fetchall()
            statuses = await (await conn.execute(USAGE_BY_STATUS, (key_id, since))).fetchall()
            latency = await (await conn.execute(USAGE_LATENCY, (key_id, since))).fetchone()
        p50, p95 = latency if latency else (None, None)
        return UsageCounts(
            by_hour={hour.astimezone(UTC): count for hour, count in hours},
            by_status_code={code: count for code, count in statuses},
            p50_ms=None if p50 is None else round(float(p50), 3),
            p95_ms=None if p95 is None else round(float(p95), 3),
        )

    async def recent(
        self, key_ids: Sequence[int] | None, status_class: int | None, limit: int
    ) -> Sequence[LoggedRequest]:
        params = {
            "all_keys": key_ids is None,
            "key_ids": list(key_ids or []),
            "status_class": status_class,
            "limit": limit,
        }
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(RECENT, params)).fetchall()
        return [
            LoggedRequest(
                id=row[0],
                entry=RequestLogEntry(
                    method=row[1],
                    path=row[2],
                    status_code=row[3],
                    response_time_ms=row[4],
                    ip_address=row[5],
                    api_key_id=row[6],
                    created_at=row[7],
                ),
            )
            for row in rows
        ]


class PostgresRequestLogPruner:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def prune(self, before: datetime) -> PruneResult:
        async with self._pool.connection() as conn, conn.transaction():
            names = [row[0] for row in await (await conn.execute(PARTITIONS)).fetchall()]
            expired = [n for n in names if _partition_end(n) <= before]
            for name in expired:
                await conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
            # What is left is at most one partly expired day plus the default partition.
            deleted = (await conn.execute(DELETE_OLDER, (before,))).rowcount
        return PruneResult(partitions_dropped=len(expired), rows_deleted=max(deleted, 0))
