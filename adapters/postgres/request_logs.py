"""request_logs: a bounded in-memory buffer written by COPY in batches, off the hot path.

While the database is away rows stay buffered and are retried; only past the bound
are the oldest dropped, counted and reported. stop() writes what is pending.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg_pool import AsyncConnectionPool

from domain.request_log import RequestLogEntry

log = logging.getLogger(__name__)

COPY_ROWS = (
    "COPY request_logs (method, path, status_code, response_time_ms, ip_address,"
    " api_key_id, created_at) FROM STDIN"
)
ENSURE_PARTITIONS = "SELECT request_logs_ensure_partitions(%s, %s)"
PARTITIONS_AHEAD_DAYS = 7

Row = tuple[str, str, int, float, str | None, int | None, datetime]


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
        self.written = 0

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def record(self, entry: RequestLogEntry) -> None:
        if len(self._buffer) >= self._max_buffer:
            self._buffer.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error("request log buffer full: %d rows dropped so far", self.dropped)
        self._buffer.append(
            (
                entry.method,
                entry.path,
                entry.status_code,
                entry.response_time_ms,
                entry.ip_address,
                entry.api_key_id,
                entry.created_at,
            )
        )

    async def flush(self) -> bool:
        """Write everything buffered; False when the database refused (rows kept)."""
        async with self._lock:
            while self._buffer:
                count = min(self._batch_size, len(self._buffer))
                batch = [self._buffer.popleft() for _ in range(count)]
                try:
                    await self._copy(batch)
                except (psycopg.Error, OSError) as exc:
                    self._put_back(batch)
                    log.warning(
                        "request log write failed (%s); %d rows kept for retry",
                        type(exc).__name__,
                        len(self._buffer),
                    )
                    return False
                self.written += count
        return True

    async def _copy(self, batch: list[Row]) -> None:
        async with (
            self._pool.connection() as conn,
            conn.cursor() as cur,
            cur.copy(COPY_ROWS) as copy,
        ):
            for row in batch:
                await copy.write_row(row)

    def _put_back(self, batch: list[Row]) -> None:
        room = self._max_buffer - len(self._buffer)
        keep = batch[-room:] if room > 0 else []
        lost = len(batch) - len(keep)
        if lost:
            self.dropped += lost
            log.error("request log buffer full: %d rows dropped so far", self.dropped)
        self._buffer.extendleft(reversed(keep))

    async def ensure_partitions(self) -> None:
        today = datetime.now(UTC).date()
        async with self._pool.connection() as conn:
            await conn.execute(
                ENSURE_PARTITIONS, (today - timedelta(days=1), PARTITIONS_AHEAD_DAYS + 1)
            )

    async def drain(self, attempts: int = 10, delay: float = 0.5) -> None:
        """At shutdown: keep trying for a while, then report what could not be written."""
        for _ in range(attempts):
            if await self.flush():
                return
            await asyncio.sleep(delay)
        if self._buffer:
            log.error("shutdown: %d request log rows could not be written", len(self._buffer))
