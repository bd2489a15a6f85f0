"""The request-log sink through real network faults: every row written exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from adapters.postgres.pool import KeygatePool, create_pool
from adapters.postgres.request_logs import ID_BLOCK, PostgresRequestLogSink
from domain.request_log import RequestLogEntry
from tests.support.logs import logged_rows_now
from tests.support.tcp_proxy import ThreadedProxy, postgres_proxy
from tests.support.waiting import eventually

ROWS = 50
# Long enough that the test sees the rows land and cuts the connection while the
# database's answer is still on its way back.
REPLY_DELAY = 0.5


@pytest.fixture
def proxy(db: str) -> Iterator[ThreadedProxy]:
    with postgres_proxy(db) as proxy:
        yield proxy


@pytest.fixture
async def pool(proxy: ThreadedProxy) -> AsyncIterator[KeygatePool]:
    pool = create_pool(proxy.url, min_size=1, max_size=1, timeout=5, statement_timeout_ms=5000)
    await pool.open(wait=True)
    try:
        yield pool
    finally:
        await pool.close()


def entry(i: int) -> RequestLogEntry:
    return RequestLogEntry("GET", f"/api/once/{i}", 200, 1.0, "192.0.2.1", None, datetime.now(UTC))


def landed(db: str) -> int:
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM request_logs").fetchone()
    return int(row[0]) if row else 0


async def test_a_write_whose_acknowledgement_is_lost_is_not_written_again(
    pool: KeygatePool, proxy: ThreadedProxy, db: str
) -> None:
    sink = PostgresRequestLogSink(pool, max_buffer=1000)
    for i in range(ROWS):
        sink.record(entry(i))
    proxy.delay_replies(REPLY_DELAY)
    flushing = asyncio.create_task(sink.flush())
    # The rows are in the table: the database committed them, and its answer is held.
    await eventually(lambda: landed(db) > 0, within=30, every=0.01)
    proxy.cut()
    assert await flushing is False, "the sink saw its write fail"
    proxy.delay_replies(0)
    proxy.restore()
    assert await sink.flush()

    paths = Counter(r["path"] for r in logged_rows_now(db))
    assert paths == Counter(f"/api/once/{i}" for i in range(ROWS)), "a row twice, or none"
    assert sink.pending == 0 and sink.dropped == 0


def test_one_nextval_reserves_a_whole_batch_of_ids(db: str) -> None:
    with psycopg.connect(db) as conn:
        row = conn.execute(
            "SELECT increment_by FROM pg_sequences WHERE sequencename = 'request_logs_id_seq'"
        ).fetchone()
    assert row == (ID_BLOCK,)
