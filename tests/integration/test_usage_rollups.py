"""The usage rollups kept by the triggers of functions/usage.sql agree with the raw rows
whatever writes them (COPY, multi-row INSERT, UPDATE, several writers at once, with
compactions in between): counts exactly, percentiles within 5 % of percentile_cont."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.postgres.usage import PostgresUsageRollups
from domain.usage import Granularity, percentile
from entrypoints.container import Container

# Far from today: the rows sit in the default partition, alone.
BASE = datetime(2001, 5, 5, tzinfo=UTC)
SPAN = timedelta(days=3)
READ_SPAN = SPAN + timedelta(days=1)  # an UPDATE may move a row past SPAN
STATUSES = [200, 201, 204, 301, 304, 400, 401, 404, 429, 500, 503]
ROLLUPS = "usage_status, usage_status_deltas, usage_latency, usage_latency_deltas"
COLUMNS = "api_key_id, method, path, status_code, response_time_ms, created_at"
# A row: (key index, minutes after BASE, status, ms).
Row = tuple[int, int, int, float]

KEPT_BY_HOUR = """
SELECT api_key_id, hour, status_code, sum(n) FROM (
    SELECT api_key_id, hour, status_code, n FROM usage_status
    UNION ALL SELECT api_key_id, hour, status_code, n FROM usage_status_deltas
) u GROUP BY 1, 2, 3 HAVING sum(n) <> 0
"""
COUNTED_BY_HOUR = """
SELECT api_key_id, date_trunc('hour', created_at, 'UTC'), status_code, count(*)
FROM request_logs GROUP BY 1, 2, 3
"""
LATENCY_TOTALS = """
SELECT api_key_id, hour, sum(n) FROM (
    SELECT api_key_id, hour, n FROM usage_latency
    UNION ALL SELECT api_key_id, hour, n FROM usage_latency_deltas
) u GROUP BY 1, 2 HAVING sum(n) <> 0
"""
EXACT_PERCENTILES = """
SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY response_time_ms)
FROM request_logs WHERE api_key_id = %s AND created_at >= %s AND created_at < %s
"""


def key_ids(db: str, n: int = 3) -> list[int]:
    with psycopg.connect(db, autocommit=True) as conn:
        return [
            conn.execute(
                "INSERT INTO api_keys (user_id, name, key_hash, prefix) VALUES ('u', 'k', %s, 'p')"
                " RETURNING id",
                (f"hash-{uuid.uuid4()}",),
            ).fetchone()[0]  # type: ignore[index]
            for i in range(n)
        ]


def as_tuples(keys: list[int], rows: list[Row]) -> list[tuple[int, str, str, int, float, datetime]]:
    return [
        (keys[k], "GET", "/api/x", status, ms, BASE + timedelta(minutes=m))
        for k, m, status, ms in rows
    ]


async def write(conn: psycopg.AsyncConnection, how: str, rows: list[tuple]) -> None:  # type: ignore[type-arg]
    if how == "copy":
        async with (
            conn.cursor() as cur,
            cur.copy(f"COPY request_logs ({COLUMNS}) FROM STDIN") as cp,
        ):
            for row in rows:
                await cp.write_row(row)
    else:  # one multi-row INSERT statement
        await conn.execute(
            f"INSERT INTO request_logs ({COLUMNS})"
            " SELECT * FROM unnest(%s::int[], %s::text[], %s::text[], %s::int[], %s::real[],"
            " %s::timestamptz[])",
            [list(column) for column in zip(*rows, strict=True)],
        )


def exact_counts_agree(db: str) -> None:
    with psycopg.connect(db) as conn:
        kept = {(k, h, s): int(n) for k, h, s, n in conn.execute(KEPT_BY_HOUR).fetchall()}
        counted = {(k, h, s): int(n) for k, h, s, n in conn.execute(COUNTED_BY_HOUR).fetchall()}
        latency = {(k, h): int(n) for k, h, n in conn.execute(LATENCY_TOTALS).fetchall()}
    assert kept == counted
    per_hour: dict[tuple[int, datetime], int] = {}
    for (k, h, _), n in counted.items():
        per_hour[(k, h)] = per_hour.get((k, h), 0) + n
    assert latency == per_hour


async def days_agree(db: str, rollups: PostgresUsageRollups, keys: list[int]) -> None:
    """Per key and per UTC day: counts exact, percentiles within 5 %."""
    with psycopg.connect(db) as conn:
        for key in keys:
            usage = await rollups.key_usage(key, BASE, BASE + READ_SPAN, Granularity.DAY)
            counted = conn.execute(
                "SELECT date_trunc('day', created_at, 'UTC'), status_code, count(*)"
                " FROM request_logs WHERE api_key_id = %s GROUP BY 1, 2",
                (key,),
            ).fetchall()
            assert usage.by_bucket_status == {(d, s): n for d, s, n in counted}
            for day in (BASE + timedelta(days=i) for i in range(READ_SPAN.days)):
                one_day = await rollups.key_usage(
                    key, day, day + timedelta(days=1), Granularity.DAY
                )
                row = conn.execute(
                    EXACT_PERCENTILES, (key, day, day + timedelta(days=1))
                ).fetchone()
                exact = row[0] if row else None
                if exact is None:
                    assert not one_day.latency
                    continue
                for fraction, value in zip((0.5, 0.95, 0.99), exact, strict=True):
                    assert percentile(one_day.latency, fraction) == pytest.approx(value, rel=0.05)


rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.integers(0, int(SPAN.total_seconds() // 60) - 1),
        st.sampled_from(STATUSES),
        st.one_of(st.just(0.0), st.floats(0.05, 60_000)),
    ),
    min_size=1,
    max_size=120,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=st.lists(
        st.tuples(st.sampled_from(["copy", "insert"]), rows_strategy, st.booleans()),
        min_size=1,
        max_size=4,
    ),
    update=st.booleans(),
)
async def test_rollups_equal_the_raw_rows_for_every_hour_and_day(
    open_container: Container,
    db: str,
    batches: list[tuple[str, list[Row], bool]],
    update: bool,
) -> None:
    keys = key_ids(db)
    rollups = PostgresUsageRollups(open_container.pool())
    async with await psycopg.AsyncConnection.connect(db, autocommit=True) as conn:
        await conn.execute(f"TRUNCATE request_logs, {ROLLUPS}")
        for how, rows, compact in batches:
            await write(conn, how, as_tuples(keys, rows))
            if compact:
                await rollups.compact()
        if update:
            # Moves rows between groups: another status, another hour, another key.
            await conn.execute(
                "UPDATE request_logs SET status_code = 500, created_at = created_at + interval"
                " '70 minutes', api_key_id = %s WHERE id %% 3 = 0",
                (keys[0],),
            )
    exact_counts_agree(db)
    await days_agree(db, rollups, keys)
    await rollups.compact()
    exact_counts_agree(db)


async def writer(db: str, keys: list[int], seed: int) -> None:
    rng = random.Random(seed)
    async with await psycopg.AsyncConnection.connect(db, autocommit=True) as conn:
        for _ in range(25):
            rows = [
                (rng.randrange(3), rng.randrange(600), rng.choice(STATUSES), rng.uniform(0.1, 500))
                for _ in range(rng.randint(1, 40))
            ]
            if rng.random() < 0.2:
                # A bulk insert of two statements in one transaction, or one rolled back.
                async with conn.transaction():
                    await write(conn, "insert", as_tuples(keys, rows))
                    await write(conn, "copy", as_tuples(keys, rows[:5]))
                    if rng.random() < 0.3:
                        await conn.execute("SELECT 1/0")
            else:
                await write(conn, rng.choice(["copy", "insert"]), as_tuples(keys, rows))


async def test_concurrent_writers_and_compactions_lose_no_increment(
    open_container: Container, db: str
) -> None:
    keys = key_ids(db)
    rollups = PostgresUsageRollups(open_container.pool())

    async def compactor() -> None:
        for _ in range(20):
            await rollups.compact()
            await asyncio.sleep(0.01)

    results = await asyncio.gather(
        *(writer(db, keys, seed) for seed in range(4)),
        compactor(),
        compactor(),
        return_exceptions=True,
    )
    assert all(r is None or isinstance(r, psycopg.errors.DivisionByZero) for r in results)
    exact_counts_agree(db)
    await rollups.compact()
    exact_counts_agree(db)
    with psycopg.connect(db) as conn:
        left = conn.execute("SELECT count(*) FROM usage_status_deltas").fetchone()
    assert left == (0,)


async def test_rebuild_recounts_from_since_and_leaves_earlier_hours(
    open_container: Container, db: str
) -> None:
    keys = key_ids(db, 1)
    rows: list[Row] = [(0, m, 200, 10.0) for m in (0, 90, 200, 300)]
    async with await psycopg.AsyncConnection.connect(db, autocommit=True) as conn:
        await write(conn, "copy", as_tuples(keys, rows))
        # What an import with triggers off would leave: raw rows the rollups lack, and
        # rollups that count wrong.
        await conn.execute("DELETE FROM usage_status_deltas WHERE hour >= %s", (BASE,))
        await conn.execute(
            "INSERT INTO usage_status VALUES (%s, %s, 200, 7)", (keys[0], BASE + timedelta(hours=4))
        )
    rebuild = open_container.rebuild_usage()
    assert await rebuild(BASE + timedelta(hours=1, minutes=30)) == 3  # hours 1, 3 and 5
    with psycopg.connect(db) as conn:
        kept = conn.execute(KEPT_BY_HOUR).fetchall()
    assert {(h, int(n)) for _, h, _, n in kept} == {
        (BASE + timedelta(hours=1), 1),
        (BASE + timedelta(hours=3), 1),
        (BASE + timedelta(hours=5), 1),
    }
    assert await rebuild(None) == 4
    exact_counts_agree(db)


async def test_rollups_outlive_pruned_raw_rows_until_their_own_retention(
    open_container: Container, db: str
) -> None:
    keys = key_ids(db, 1)
    now = datetime.now(UTC)
    async with await psycopg.AsyncConnection.connect(db, autocommit=True) as conn:
        rows = [
            (keys[0], "GET", "/api/x", 200, 1.0, now - timedelta(days=age)) for age in (1, 40, 500)
        ]
        await write(conn, "insert", rows)
    await open_container.prune_request_logs()(timedelta(days=30))
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM request_logs").fetchone() == (1,)
        assert conn.execute(KEPT_BY_HOUR).rowcount == 3
    await PostgresUsageRollups(open_container.pool()).compact()
    result = await open_container.purge_expired()()
    assert result.usage_rollups == 2  # the 500-day-old hour: its status row and its latency row
    with psycopg.connect(db) as conn:
        kept = conn.execute(
            "SELECT hour FROM usage_status UNION ALL SELECT hour FROM usage_status_deltas"
        ).fetchall()
    assert sorted(h for (h,) in kept) == [
        date_trunc_hour(now - timedelta(days=40)),
        date_trunc_hour(now - timedelta(days=1)),
    ]


def date_trunc_hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)
