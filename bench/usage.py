"""The usage figures at 10 k, 1 M and 10 M raw rows for one key, from the rollups and
(for reference) by the raw-row scan they replace; and the request-log sink's rows per
second with the rollup triggers on and off.

    DATABASE_URL=postgresql://.../bench_usage uv run python -u -m bench.usage \\
        [--sizes 10000,1000000,10000000] [--reads 30] [--sink-rows 50000] [--sink-runs 7] \\
        [--fill-only | --filled]

Applies migrations, then fills one key per size with that many rows spread over the
last 24 h (generate_series, straight into request_logs, so the triggers build the
rollups), compacts, VACUUM ANALYZEs, and times each read `--reads` times (medians).
The sink part writes rows of 100 keys, statuses and latencies varied, alternating
runs with the triggers enabled and disabled. Leaves the data in place: use a
database of its own. --fill-only then --filled splits the slow fill from the timed
part (only the latter needs the machine to itself).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from adapters.postgres.migrate import apply_migrations
from adapters.postgres.pool import create_pool
from adapters.postgres.request_logs import PostgresRequestLogSink
from adapters.postgres.usage import PostgresUsageRollups
from domain.request_log import RequestLogEntry
from domain.usage import Granularity, key_usage_report, usage_range

CHUNK = 1_000_000
FILL = """
INSERT INTO request_logs (api_key_id, method, path, status_code, response_time_ms,
                          ip_address, created_at)
SELECT %(key)s, 'GET', '/api/resources',
       (ARRAY[200, 200, 200, 200, 201, 304, 400, 404, 429, 500])[1 + (g %% 10)],
       (exp(random() * 7) / 10)::real, '192.0.2.1',
       %(now)s - random() * interval '24 hours'
FROM generate_series(1, %(n)s) g
"""
# What GET /api/keys/{id}/usage ran before the rollups (adapters/postgres/request_log_queries.py).
RAW_SCAN = [
    "SELECT date_trunc('hour', created_at), count(*) FROM request_logs"
    " WHERE api_key_id = %(key)s AND created_at >= %(since)s GROUP BY 1",
    "SELECT status_code, count(*) FROM request_logs"
    " WHERE api_key_id = %(key)s AND created_at >= %(since)s GROUP BY 1",
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms),"
    " percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time_ms)"
    " FROM request_logs WHERE api_key_id = %(key)s AND created_at >= %(since)s",
]


def new_key(conn: psycopg.Connection, name: str) -> int:  # type: ignore[type-arg]
    row = conn.execute(
        "INSERT INTO api_keys (user_id, name, key_hash, prefix) VALUES ('bench', %s, %s, 'rk_b')"
        " RETURNING id",
        (name, uuid.uuid4().hex),
    ).fetchone()
    assert row is not None
    return int(row[0])


def filled_keys(url: str, sizes: list[int]) -> tuple[dict[int, int], datetime]:
    """The keys an earlier --fill-only made (size -> id), and when."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT name, id, created_at FROM api_keys WHERE name = ANY(%s)",
            ([f"bench-{size}" for size in sizes],),
        ).fetchall()
    if len(rows) != len(sizes):
        raise SystemExit("no filled keys for every size: run with --fill-only first")
    keys = {int(name.removeprefix("bench-")): key for name, key, _ in rows}
    return dict(sorted(keys.items())), max(at for *_, at in rows)


def fill(url: str, sizes: list[int], now: datetime) -> dict[int, int]:
    """size -> key id, each key with `size` rows in the 24 h before `now`."""
    keys = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT request_logs_ensure_partitions(%s, 3)", (now.date() - timedelta(1),))
        for size in sizes:
            keys[size] = key = new_key(conn, f"bench-{size}")
            started = time.perf_counter()
            for done in range(0, size, CHUNK):
                conn.execute(FILL, {"key": key, "now": now, "n": min(CHUNK, size - done)})
            print(f"filled {size:,} rows for key {key} in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        conn.execute("SELECT usage_compact()")
        print(f"compacted in {time.perf_counter() - started:.1f} s")
        conn.execute("VACUUM ANALYZE")
    return keys


async def time_reads(url: str, keys: dict[int, int], now: datetime, reads: int) -> None:
    pool = create_pool(url, min_size=1, max_size=2, timeout=30, statement_timeout_ms=600_000)
    await pool.open(wait=True)
    rollups = PostgresUsageRollups(pool)
    at = usage_range(now)
    hours = at.hours
    assert hours is not None
    results = {}
    try:
        for size, key in keys.items():
            rollup_ms, raw_ms = [], []
            for _ in range(reads):
                started = time.perf_counter()
                report = key_usage_report(
                    key, at, await rollups.key_usage(key, *hours, Granularity.HOUR)
                )
                rollup_ms.append((time.perf_counter() - started) * 1000)
            for _ in range(max(3, reads // 10)):
                started = time.perf_counter()
                async with pool.connection() as conn:
                    for query in RAW_SCAN:
                        await (
                            await conn.execute(query, {"key": key, "since": hours[0]})
                        ).fetchall()
                raw_ms.append((time.perf_counter() - started) * 1000)
            results[size] = (statistics.median(rollup_ms), statistics.median(raw_ms))
            print(
                f"{size:>11,} rows: rollups {results[size][0]:7.2f} ms"
                f" (min {min(rollup_ms):.2f}, max {max(rollup_ms):.2f}),"
                f" raw scan {results[size][1]:8.1f} ms; total {report.total:,}"
            )
    finally:
        await pool.close()
    base = results[min(results)][0]
    for size, (ms, _) in results.items():
        print(f"{size:>11,} rows: rollup read {ms / base:.2f}x the {min(results):,}-row one")


async def time_sink(url: str, rows: int, runs: int) -> None:
    pool = create_pool(url, min_size=1, max_size=2, timeout=30, statement_timeout_ms=600_000)
    await pool.open(wait=True)
    rng = random.Random(7)
    with psycopg.connect(url, autocommit=True) as conn:
        keys = [new_key(conn, f"sink-{i}") for i in range(100)]
    rates: dict[bool, list[float]] = {True: [], False: []}
    try:
        for run in range(runs * 2):
            on = run % 2 == 0
            with psycopg.connect(url, autocommit=True) as conn:
                state = "ENABLE" if on else "DISABLE"
                conn.execute(f"ALTER TABLE request_logs {state} TRIGGER usage_rollups_insert")
            sink = PostgresRequestLogSink(pool, max_buffer=rows)
            now = datetime.now(UTC)
            for _ in range(rows):
                status = rng.choice((200, 200, 200, 201, 404, 429, 500))
                ms = rng.lognormvariate(1.5, 1.0)
                sink.record(
                    RequestLogEntry("GET", "/api/x", status, ms, "192.0.2.1", rng.choice(keys), now)
                )
            started = time.perf_counter()
            assert await sink.flush()
            rates[on].append(rows / (time.perf_counter() - started))
            print(f"run {run + 1} triggers {'on ' if on else 'off'}: {rates[on][-1]:,.0f} rows/s")
            async with pool.connection() as conn:
                await conn.execute("SELECT usage_compact()")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ALTER TABLE request_logs ENABLE TRIGGER usage_rollups_insert")
        await pool.close()
    on, off = statistics.median(rates[True]), statistics.median(rates[False])
    print(f"sink, median of {runs} runs each of {rows:,} rows: on {on:,.0f} rows/s,"
          f" off {off:,.0f} rows/s, on/off {on / off:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000,10000000")
    parser.add_argument("--reads", type=int, default=30)
    parser.add_argument("--sink-rows", type=int, default=50_000)
    parser.add_argument("--sink-runs", type=int, default=7)
    parser.add_argument(
        "--fill-only", action="store_true", help="fill, compact, vacuum; time nothing"
    )
    parser.add_argument(
        "--filled", action="store_true", help="time the reads of an earlier --fill-only"
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        parser.error("DATABASE_URL is not set")
    asyncio.run(apply_migrations(url))
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.filled:
        keys, now = filled_keys(url, sizes)
    else:
        now = datetime.now(UTC)
        keys = fill(url, sizes, now)
        if args.fill_only:
            return
    asyncio.run(time_reads(url, keys, now, args.reads))
    asyncio.run(time_sink(url, args.sink_rows, args.sink_runs))


if __name__ == "__main__":
    main()
