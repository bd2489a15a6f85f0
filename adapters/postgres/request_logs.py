"""request_logs: a bounded in-memory buffer written in batches, off the hot path.

While the database is away rows stay buffered and are retried; only past the bound
are the oldest dropped, counted and reported. stop() writes what is pending.

Each row is written exactly once, also when a connection drops after the database
committed a batch and before the client heard so: a row gets its id (a block of the
table's own sequence per batch) before its first attempt and keeps it through every
retry. Rows on their first attempt cannot be in the table yet and go in by COPY, as
fast as ever; a batch holding a retried row goes by COPY into a session's staging
table, then INSERT ... ON CONFLICT DO NOTHING on the primary key, so a row that is
there already is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import UTC, datetime, timedelta

import psycopg
import psycopg.errors
from psycopg.rows import TupleRow

from adapters.postgres.pool import KeygatePool
from application.ports.errors import StoreError, UnstorableValue
from application.ports.metrics import Metrics, NoMetrics
from domain.request_log import RequestLogEntry

log = logging.getLogger(__name__)

COLUMNS = "id, method, path, status_code, response_time_ms, ip_address, api_key_id, created_at"
# The sequence's increment (migration 0012): one nextval reserves ID_BLOCK ids.
ID_BLOCK = 8192
RESERVE_IDS = "SELECT nextval(pg_get_serial_sequence('request_logs', 'id'))"
COPY_ROWS = f"COPY request_logs ({COLUMNS}) FROM STDIN"
# Emptied by every commit of a transaction that used it, without a catalog change
# (ON COMMIT DROP would add and remove a table's catalog rows with every batch).
CREATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS request_logs_incoming (
    id bigint, method text, path text, status_code integer, response_time_ms real,
    ip_address text, api_key_id integer, created_at timestamptz
) ON COMMIT DELETE ROWS
"""
COPY_STAGING = f"COPY request_logs_incoming ({COLUMNS}) FROM STDIN"
# A key deleted while its rows waited leaves them without a key, not without a row.
INSERT_STAGED = f"""
INSERT INTO request_logs ({COLUMNS}) OVERRIDING SYSTEM VALUE
SELECT i.id, i.method, i.path, i.status_code, i.response_time_ms, i.ip_address, k.id,
       i.created_at
FROM request_logs_incoming i LEFT JOIN api_keys k ON k.id = i.api_key_id
ON CONFLICT DO NOTHING
"""
ENSURE_PARTITIONS = "SELECT request_logs_ensure_partitions(%s, %s)"
PARTITIONS_AHEAD_DAYS = 7
# Rows formatted between two yields to the event loop: a flush of 4,000 rows in one
# go held the worker's loop for 13-18 ms, and every request waiting meanwhile paid it
# (measured: 1.6-1.9 ms in slices of 100).
ROWS_PER_SLICE = 100
# How long shutdown waits for an unreachable database; the server's own kill timeout
# (entrypoints/cli/server.py) must leave room for it.
DRAIN_SECONDS = 10.0

# (id, method, path, status_code, response_time_ms, ip_address, api_key_id, created_at);
# id is None until the row's first write attempt.
Row = tuple[int | None, str, str, int, float, str | None, int | None, datetime]
KEY = 6  # api_key_id's place in a Row


def _refused(exc: StoreError) -> bool:
    """The table refuses a row: a value it cannot hold, or a key that is gone."""
    return isinstance(exc, UnstorableValue) or isinstance(exc.__cause__, psycopg.IntegrityError)


class PostgresRequestLogSink:
    def __init__(
        self,
        pool: KeygatePool,
        *,
        max_buffer: int,
        batch_size: int = 5000,
        metrics: Metrics | None = None,
    ) -> None:
        if not 1 <= batch_size <= ID_BLOCK:
            raise ValueError(f"batch_size must be between 1 and {ID_BLOCK}")
        self._pool = pool
        self._max_buffer = max_buffer
        self._batch_size = batch_size
        self._metrics = metrics or NoMetrics()
        self._buffer: deque[Row] = deque()
        self._lock = asyncio.Lock()
        self.dropped = 0
        self._reported_dropped = 0
        self.written = 0
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
            self._metrics.request_log_dropped(1)
        path, ip = entry.path, entry.ip_address
        # PostgreSQL text cannot hold NUL, and a percent-decoded path can (/api/%00).
        if "\x00" in path:
            path = path.replace("\x00", "\ufffd")
        if ip and "\x00" in ip:
            ip = ip.replace("\x00", "\ufffd")
        self._buffer.append(
            (
                None,
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
        """Write everything buffered; False when the database failed (rows kept)."""
        async with self._lock:
            self._report_drops()
            while self._buffer:
                count = min(self._batch_size, len(self._buffer))
                batch = [self._buffer.popleft() for _ in range(count)]
                self._in_flight = len(batch)
                try:
                    await self._write_salvaging(batch)
                except StoreError as exc:
                    log.warning(
                        "request log write failed (%s); %d rows kept for retry", exc, self.pending
                    )
                    return False
                finally:
                    self._in_flight = 0
        return True

    async def _write_salvaging(self, batch: list[Row]) -> None:
        """Write `batch`. A row the table refuses must not hold back every row after it:
        a refused part is halved down to single rows. On any other failure what is not
        written goes back to the buffer, ids kept, and the error propagates."""
        parts = [batch]
        while parts:
            part = parts.pop()
            try:
                await self._write(part)
            except StoreError as exc:
                if _refused(exc):
                    parts += self._after_refusal(part, exc)
                    continue
                self._put_back([row for rest in (part, *reversed(parts)) for row in rest])
                raise
            except BaseException:
                # Cancelled (a drain deadline): a retry cannot write a row twice.
                self._put_back([row for rest in (part, *reversed(parts)) for row in rest])
                raise
            self.written += len(part)
            self._metrics.request_log_written(len(part))

    def _after_refusal(self, part: list[Row], exc: StoreError) -> list[list[Row]]:
        """What to try next of a refused part (halves, popped first half first)."""
        if len(part) > 1:
            half = len(part) // 2
            return [part[half:], part[:half]]
        row = part[0]
        if isinstance(exc.__cause__, psycopg.errors.ForeignKeyViolation) and row[KEY] is not None:
            row_id, method, path, status, ms, ip, _, at = row
            return [[(row_id, method, path, status, ms, ip, None, at)]]
        log.error("request log row refused and dropped (%s): %r", exc, row)
        self.dropped += 1
        self._metrics.request_log_dropped(1)
        return []

    async def _write(self, rows: list[Row]) -> None:
        retried = any(row[0] is not None for row in rows)
        async with self._pool.connection(self._pool.maintenance_timeout) as conn:
            await _assign_ids(conn, rows)
            if not retried:
                await _copy(conn, COPY_ROWS, rows)
                return
            async with conn.transaction():
                await conn.execute(CREATE_STAGING)
                await _copy(conn, COPY_STAGING, rows)
                await conn.execute(INSERT_STAGED)

    def _report_drops(self) -> None:
        if self.dropped > self._reported_dropped:
            log.error(
                "request log buffer full (%d rows): %d rows dropped since last report, %d in all",
                self._max_buffer,
                self.dropped - self._reported_dropped,
                self.dropped,
            )
            self._reported_dropped = self.dropped

    def _put_back(self, batch: list[Row]) -> None:
        room = self._max_buffer - len(self._buffer)
        keep = batch[-room:] if room > 0 else []
        self.dropped += len(batch) - len(keep)
        self._metrics.request_log_dropped(len(batch) - len(keep))
        self._buffer.extendleft(reversed(keep))

    async def ensure_partitions(self) -> None:
        today = datetime.now(UTC).date()
        # Yesterday (a clock a little behind), today, and the days ahead.
        days = 1 + 1 + PARTITIONS_AHEAD_DAYS
        async with self._pool.connection(self._pool.maintenance_timeout) as conn:
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


async def _assign_ids(conn: psycopg.AsyncConnection[TupleRow], rows: list[Row]) -> None:
    """Give the rows that have none their ids, in place, from one block: from now on a
    retry of a row is recognised as the same row."""
    missing = [i for i, row in enumerate(rows) if row[0] is None]
    if not missing:
        return
    block = await (await conn.execute(RESERVE_IDS)).fetchone()
    assert block is not None
    for offset, i in enumerate(missing):
        rows[i] = (block[0] + offset, *rows[i][1:])


async def _copy(conn: psycopg.AsyncConnection[TupleRow], statement: str, rows: list[Row]) -> None:
    async with conn.cursor() as cur, cur.copy(statement) as copy:
        for done, row in enumerate(rows, 1):
            await copy.write_row(row)
            if done % ROWS_PER_SLICE == 0:
                await asyncio.sleep(0)
