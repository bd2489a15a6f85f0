"""RequestLogSink, RequestLogQueries, RequestLogPruner and UsageRollups: InMemoryRequestLog
(and InMemoryUsageRollups over it) against the PostgreSQL sink (buffered, then COPY),
queries and rollups (kept by triggers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.request_log_queries import (
    PostgresRequestLogPruner,
    PostgresRequestLogQueries,
)
from adapters.postgres.request_logs import PostgresRequestLogSink
from adapters.postgres.usage import PostgresUsageRollups
from application.ports.request_log import RequestLogPruner, RequestLogQueries, RequestLogSink
from application.ports.usage import UsageRollups
from domain.request_log import RequestLogEntry
from domain.usage import Granularity, KeyTraffic, percentile
from tests.contract.conftest import BACKENDS
from tests.fakes import InMemoryRequestLog, InMemoryUsageRollups

NOW = datetime.now(UTC).replace(microsecond=0)
# Rows far from today land in the default partition and leave the daily ones alone.
LONG_AGO = datetime(2001, 5, 5, 10, 30, tzinfo=UTC)


@dataclass(frozen=True)
class RequestLog:
    sink: RequestLogSink
    queries: RequestLogQueries
    pruner: RequestLogPruner
    rollups: UsageRollups
    # Waits until what the sink took is readable (PostgreSQL writes in batches).
    settle: Callable[[], Awaitable[object]]
    key_ids: tuple[int, int]


async def nothing() -> None:
    return None


KEY_ROW = (
    "INSERT INTO api_keys (user_id, name, key_hash, prefix, permissions, rate_limit)"
    " VALUES (%s, 'k', %s, 'rk_x', '{read}', 100) RETURNING id"
)


async def existing_keys(pool: AsyncConnectionPool) -> tuple[int, int]:
    """request_logs.api_key_id refers to api_keys: rows are logged for keys that exist."""
    ids = []
    async with pool.connection() as conn:
        for user in ("alice", "bob"):
            row = await (await conn.execute(KEY_ROW, (user, user))).fetchone()
            assert row is not None
            ids.append(row[0])
    return ids[0], ids[1]


@pytest.fixture
async def key_ids(pool: AsyncConnectionPool) -> tuple[int, int]:
    return await existing_keys(pool)


@pytest.fixture(params=BACKENDS)
def log(request: pytest.FixtureRequest) -> RequestLog:
    if request.param == "fake":
        fake = InMemoryRequestLog()
        names = {1: ("k", "alice"), 2: ("k", "bob")}
        return RequestLog(fake, fake, fake, InMemoryUsageRollups(fake, names), nothing, (1, 2))
    pool = request.getfixturevalue("pool")
    sink = PostgresRequestLogSink(pool, max_buffer=10_000)
    return RequestLog(
        sink,
        PostgresRequestLogQueries(pool),
        PostgresRequestLogPruner(pool),
        PostgresUsageRollups(pool),
        sink.flush,
        request.getfixturevalue("key_ids"),
    )


def entry(
    key: int | None, status: int = 200, ms: float = 10.0, at: datetime = NOW, path: str = "/api/x"
) -> RequestLogEntry:
    return RequestLogEntry("GET", path, status, ms, "203.0.113.9", key, at)


async def test_recent_rows_read_back_newest_first(log: RequestLog) -> None:
    first, second = log.key_ids
    written = [
        entry(first, 200, 1.5, NOW - timedelta(seconds=3)),
        entry(second, 404, 2.25, NOW - timedelta(seconds=2)),
        entry(None, 401, 0.5, NOW - timedelta(seconds=1), path="/api/keys"),
        entry(first, 503, 3.0, NOW - timedelta(seconds=1)),
    ]
    for e in written:
        log.sink.record(e)
    await log.settle()
    rows = await log.queries.recent(None, None, 10)
    assert [r.entry for r in rows] == [written[3], written[2], written[1], written[0]]
    assert rows[0].id > rows[1].id  # the same instant: the later row first
    assert [r.entry for r in await log.queries.recent([first], None, 10)] == [
        written[3],
        written[0],
    ]
    assert [r.entry.status_code for r in await log.queries.recent(None, 4, 10)] == [401, 404]
    assert [r.entry.status_code for r in await log.queries.recent([], None, 10)] == []
    assert len(await log.queries.recent(None, None, 2)) == 2


async def test_values_come_back_as_the_table_stores_them(log: RequestLog) -> None:
    """response_time_ms is a `real` (single precision) column, and text holds no NUL."""
    first, _ = log.key_ids
    log.sink.record(entry(first, ms=12.3456789, path="/api/\x00odd"))
    log.sink.record(entry(first, ms=0.1, path="/api/plain"))
    await log.settle()
    rows = await log.queries.recent(None, None, 10)
    assert [(r.entry.path, r.entry.response_time_ms) for r in rows] == [
        ("/api/plain", 0.1),
        ("/api/\ufffdodd", 12.345679),
    ]


async def test_usage_counts_by_bucket_status_and_latency(log: RequestLog) -> None:
    first, second = log.key_ids
    hour = NOW.replace(minute=0, second=0)
    for i, (status, ms) in enumerate([(200, 10.1), (200, 20.2), (404, 30.3), (500, 99.9)]):
        log.sink.record(entry(first, status, ms, hour - timedelta(hours=i % 2, seconds=-i)))
    log.sink.record(entry(second, 200, 5.0, hour))
    log.sink.record(entry(first, 200, 1.0, hour - timedelta(days=2)))
    await log.settle()
    window = (hour - timedelta(hours=1), hour + timedelta(hours=1))
    counts = await log.rollups.key_usage(first, *window, Granularity.HOUR)
    before = hour - timedelta(hours=1)
    assert counts.by_bucket_status == {(hour, 200): 1, (hour, 404): 1, (before, 200): 1,
                                       (before, 500): 1}  # fmt: skip
    # percentile_cont gives 25.25 and 89.46; the rollups' histogram within 5 %.
    assert percentile(counts.latency, 0.5) == pytest.approx(25.25, rel=0.05)
    assert percentile(counts.latency, 0.95) == pytest.approx(89.46, rel=0.05)
    days = await log.rollups.key_usage(first, hour - timedelta(days=3), window[1], Granularity.DAY)
    assert sum(days.by_bucket_status.values()) == 5
    assert {b for b, _ in days.by_bucket_status} <= {
        Granularity.DAY.floor(hour - timedelta(days=d)) for d in (0, 1, 2)
    }
    empty = await log.rollups.key_usage(first, window[1], window[1] + timedelta(hours=1),
                                        Granularity.HOUR)  # fmt: skip
    assert (empty.by_bucket_status, list(empty.latency)) == ({}, [])


async def test_top_keys_rank_by_requests_with_error_counts(log: RequestLog) -> None:
    first, second = log.key_ids
    hour = NOW.replace(minute=0, second=0)
    for status in (200, 404, 500, 503):
        log.sink.record(entry(first, status, 1.0, hour))
    log.sink.record(entry(second, 429, 1.0, hour))
    log.sink.record(entry(second, 200, 1.0, hour - timedelta(days=3)))  # outside the range
    await log.settle()
    top = await log.rollups.top_keys(hour - timedelta(hours=1), hour + timedelta(hours=1), 10)
    assert top == [
        KeyTraffic(first, "k", "alice", 4, 1, 2),
        KeyTraffic(second, "k", "bob", 1, 1, 0),
    ]
    assert await log.rollups.top_keys(hour - timedelta(hours=1), hour + timedelta(hours=1), 1) == [
        KeyTraffic(first, "k", "alice", 4, 1, 2)
    ]


async def test_prune_removes_only_rows_before_the_cut(log: RequestLog) -> None:
    first, _ = log.key_ids
    old, kept = LONG_AGO, LONG_AGO + timedelta(days=400)
    for at in (old, old + timedelta(hours=1), kept, NOW):
        log.sink.record(entry(first, at=at))
    await log.settle()
    await log.pruner.prune(LONG_AGO + timedelta(days=1))
    rows = await log.queries.recent(None, None, 10)
    assert [r.entry.created_at for r in rows] == [NOW, kept]
