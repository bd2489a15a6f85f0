"""request_logs in PostgreSQL: the sink's bound, partitions, retention."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from adapters.postgres.request_logs import PostgresRequestLogSink
from domain.request_log import RequestLogEntry
from entrypoints.container import Container
from tests.support.logs import logged_rows_now


def entry(path: str, at: datetime | None = None) -> RequestLogEntry:
    return RequestLogEntry(
        method="GET",
        path=path,
        status_code=200,
        response_time_ms=1.5,
        ip_address="192.0.2.1",
        api_key_id=None,
        created_at=at or datetime.now(UTC),
    )


def partition_of(db: str, path: str) -> str:
    with psycopg.connect(db) as conn:
        row = conn.execute(
            "SELECT tableoid::regclass::text FROM request_logs WHERE path = %s", (path,)
        ).fetchone()
    assert row is not None
    return str(row[0])


async def test_past_the_bound_the_oldest_rows_are_dropped_counted_and_reported(
    open_container: Container, db: str, caplog: pytest.LogCaptureFixture
) -> None:
    sink = PostgresRequestLogSink(open_container.pool(), max_buffer=100, batch_size=30)
    for i in range(130):
        sink.record(entry(f"/api/{i}"))
    with caplog.at_level(logging.ERROR):
        assert await sink.flush()
    assert sink.dropped == 30
    assert sorted(r["path"] for r in logged_rows_now(db)) == sorted(
        f"/api/{i}" for i in range(30, 130)
    )
    assert any("30 rows dropped" in r.getMessage() for r in caplog.records)


async def test_a_row_for_a_day_without_partition_lands_in_the_default_one(
    open_container: Container, db: str
) -> None:
    sink = PostgresRequestLogSink(open_container.pool(), max_buffer=100)
    await sink.ensure_partitions()
    now = datetime.now(UTC)
    sink.record(entry("/api/today", now))
    sink.record(entry("/api/next-week", now + timedelta(days=7)))
    sink.record(entry("/api/far-future", now + timedelta(days=400)))
    assert await sink.flush()
    assert partition_of(db, "/api/today") == f"request_logs_p{now:%Y%m%d}"
    assert partition_of(db, "/api/next-week") == f"request_logs_p{now + timedelta(days=7):%Y%m%d}"
    assert partition_of(db, "/api/far-future") == "request_logs_default"


async def test_prune_drops_whole_days_and_deletes_old_rows_of_the_default_partition(
    open_container: Container, db: str
) -> None:
    now = datetime.now(UTC)
    old_day = (now - timedelta(days=40)).date()
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("SELECT request_logs_ensure_partitions(%s, 1)", (old_day,))
    sink = PostgresRequestLogSink(open_container.pool(), max_buffer=100)
    sink.record(entry("/api/old-partitioned", now - timedelta(days=40)))
    sink.record(entry("/api/old-default", now - timedelta(days=35)))  # no partition that day
    sink.record(entry("/api/recent", now - timedelta(days=2)))
    sink.record(entry("/api/now", now))
    assert await sink.flush()
    assert partition_of(db, "/api/old-default") == "request_logs_default"

    result = await open_container.prune_request_logs()(timedelta(days=30))

    assert result.partitions_dropped == 1
    assert result.rows_deleted == 1
    assert sorted(r["path"] for r in logged_rows_now(db)) == ["/api/now", "/api/recent"]
    with psycopg.connect(db) as conn:
        gone = conn.execute("SELECT to_regclass(%s)", (f"request_logs_p{old_day:%Y%m%d}",))
        assert gone.fetchone() == (None,)


async def test_a_refused_row_does_not_hold_back_the_others(
    open_container: Container, db: str
) -> None:
    """A NUL in a path (/api/%00) and a key deleted while its rows waited: every other
    row is still written, and the orphaned row keeps everything but its key."""
    from dataclasses import replace

    from tests.support.keys import issue

    key = await issue(open_container)
    sink = PostgresRequestLogSink(open_container.pool(), max_buffer=1000, batch_size=50)
    sink.record(entry("/api/x\x00y"))
    for i in range(20):
        sink.record(entry(f"/api/ok/{i}"))
    sink.record(replace(entry("/api/orphan"), api_key_id=key.key.id))
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("DELETE FROM api_keys WHERE id = %s", (key.key.id,))
    assert await sink.flush()
    rows = {r["path"]: r for r in logged_rows_now(db)}
    assert len(rows) == 22 and sink.pending == 0 and sink.dropped == 0
    assert "/api/x\ufffdy" in rows
    assert rows["/api/orphan"]["api_key_id"] is None


ENSURE = "SELECT request_logs_ensure_partitions(%s, %s)"
FAR_DAYS = "^request_logs_p2[1-9]"  # partitions the tests below make, years 2100 on


def far_partitions(db: str) -> set[str]:
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'request_logs'::regclass AND c.relname ~ %s",
            (FAR_DAYS,),
        ).fetchall()
    return {r[0] for r in rows}


@pytest.fixture
def far_days(db: str) -> Iterator[str]:
    """The database, with the far-future partitions a test makes dropped afterwards."""
    yield db
    with psycopg.connect(db, autocommit=True) as conn:
        for name in far_partitions(db):
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))


async def test_concurrent_callers_make_each_day_once_and_none_fails(far_days: str) -> None:
    first, days, callers = date(2100, 1, 1), 6, 8
    conns = [
        await psycopg.AsyncConnection.connect(far_days, autocommit=True) for _ in range(callers)
    ]
    go = asyncio.Event()

    async def call(conn: psycopg.AsyncConnection, offset: int) -> int:  # type: ignore[type-arg]
        await go.wait()
        async with conn.transaction():
            row = await (
                await conn.execute(ENSURE, (first + timedelta(days=offset), days))
            ).fetchone()
            # Committing a little later widens the window in which others look and act.
            await asyncio.sleep(0.02)
        assert row is not None
        return int(row[0])

    try:
        calls = [asyncio.create_task(call(c, i % 3)) for i, c in enumerate(conns)]
        go.set()
        created = await asyncio.gather(*calls)
    finally:
        for conn in conns:
            await conn.close()
    expected = {f"request_logs_p{first + timedelta(days=d):%Y%m%d}" for d in range(days + 2)}
    assert far_partitions(far_days) == expected
    assert sum(created) == len(expected)


async def ungranted_locks(
    watcher: psycopg.AsyncConnection, pid: int
) -> list[tuple[str, str | None]]:  # type: ignore[type-arg]
    """The locks `pid` is waiting for, once it waits for any (up to 5 s)."""
    for _ in range(100):
        cur = await watcher.execute(
            "SELECT locktype, relation::regclass::text FROM pg_locks"
            " WHERE pid = %s AND NOT granted",
            (pid,),
        )
        waiting = await cur.fetchall()
        if waiting:
            return waiting
        await asyncio.sleep(0.05)
    return []


async def test_a_second_caller_waits_its_turn_without_queueing_for_the_table_lock(
    far_days: str,
) -> None:
    """A caller queued for ACCESS EXCLUSIVE on request_logs would hold up every request-log
    write and read behind it; one waiting its turn finds the partitions made."""
    first = date(2101, 1, 1)
    connect = psycopg.AsyncConnection.connect
    async with (
        await connect(far_days, autocommit=True) as first_caller,
        await connect(far_days, autocommit=True) as second_caller,
        await connect(far_days, autocommit=True) as watcher,
    ):
        await first_caller.execute("BEGIN")
        assert await (await first_caller.execute(ENSURE, (first, 3))).fetchone() == (3,)
        second = asyncio.create_task(second_caller.execute(ENSURE, (first, 3)))
        try:
            waiting = await ungranted_locks(watcher, second_caller.info.backend_pid)
        finally:
            await first_caller.execute("COMMIT")
        assert await (await second).fetchone() == (0,)
    assert waiting == [("advisory", None)]
    assert len(far_partitions(far_days)) == 3
