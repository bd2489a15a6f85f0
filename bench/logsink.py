"""How many rows a second PostgresRequestLogSink writes: record N entries, time flush().

    DATABASE_URL=postgresql://... uv run python -m bench.logsink [--rows 50000] [--runs 5]

Applies migrations to DATABASE_URL, writes rows under path /bench/logsink/<run id> and
deletes them afterwards. Reports the median of the runs; a busy machine is noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime

from adapters.postgres.migrate import apply_migrations
from adapters.postgres.pool import create_pool
from adapters.postgres.request_logs import PostgresRequestLogSink
from domain.request_log import RequestLogEntry


async def bench(database_url: str, rows: int, runs: int) -> None:
    await apply_migrations(database_url)
    pool = create_pool(
        database_url, min_size=1, max_size=2, timeout=10, statement_timeout_ms=600_000
    )
    await pool.open(wait=True)
    path = f"/bench/logsink/{uuid.uuid4().hex[:8]}"
    record_rates, flush_rates = [], []
    try:
        for run in range(runs):
            sink = PostgresRequestLogSink(pool, max_buffer=rows)
            entries = [
                RequestLogEntry("GET", path, 200, 1.25, "192.0.2.1", None, datetime.now(UTC))
                for _ in range(rows)
            ]
            started = time.perf_counter()
            for e in entries:
                sink.record(e)
            recorded = time.perf_counter()
            assert await sink.flush()
            flushed = time.perf_counter()
            assert sink.written == rows
            record_rates.append(rows / (recorded - started))
            flush_rates.append(rows / (flushed - recorded))
            print(
                f"run {run + 1}: record {record_rates[-1]:,.0f}/s,"
                f" flush {flush_rates[-1]:,.0f} rows/s ({flushed - recorded:.3f} s)"
            )
        print(
            f"median of {runs} runs of {rows:,} rows: record {statistics.median(record_rates):,.0f}"
            f"/s, flush {statistics.median(flush_rates):,.0f} rows/s"
        )
    finally:
        async with pool.connection() as conn:
            await conn.execute("DELETE FROM request_logs WHERE path = %s", (path,))
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        parser.error("DATABASE_URL is not set")
    asyncio.run(bench(url, args.rows, args.runs))


if __name__ == "__main__":
    main()
