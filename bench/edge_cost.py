"""CPU per request of metrics and tracing, measured in one process: the real app (the
outer layer, Litestar, the pool) serving get-one over raw ASGI calls, its CPU time
(time.process_time: this process only, so other load on the machine mostly drops
out) divided by the requests, for three builds of the app side by side:

- off:     METRICS_ENABLED=false, no tracing (what costs nothing must cost nothing)
- metrics: the default (Prometheus, multi-process mode as under `serve`)
- tracing: metrics off, tracing on, exporting by OTLP to bench/otlp_sink.py

Rounds alternate the order; medians of the rounds are reported, with each round.

    uv run python bench/otlp_sink.py --port 14318 &
    uv run python bench/edge_cost.py --db $KG --api-key $KEY --rounds 5 --requests 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from typing import Any

# As `serve` does for its workers, before prometheus-client is imported.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bench-metrics-"))

import psycopg

from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[Any]:
    """`app` with its lifespan run (the pool, the background services) on this event
    loop, as a server runs it. Not Litestar's test client: it runs the lifespan on a
    loop of its own in a thread, and a request made on this loop that waits for a
    connection (two per pool here) given back on that one is never woken."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    lifespan = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the app did not start: {started}")
    try:
        yield app
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await lifespan


async def call(app: Any, path: str, key: str) -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"authorization", f"Bearer {key}".encode())],
        "client": ("127.0.0.1", 4000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def cpu_per_request(app: Any, ids: list[str], key: str, n: int) -> tuple[float, int]:
    """CPU µs per request, and how many were not a 200 (a shared database can refuse)."""
    for i in range(200):  # warm: caches, prepared statements, the key
        await call(app, f"/api/v1/resources/{ids[i % len(ids)]}", key)
    failed = 0
    started = time.process_time()
    for i in range(n):
        failed += await call(app, f"/api/v1/resources/{ids[i % len(ids)]}", key) != 200
    return (time.process_time() - started) / n * 1e6, failed


async def main(args: argparse.Namespace) -> None:
    with psycopg.connect(args.db) as conn:
        ids = [str(r[0]) for r in conn.execute("SELECT id FROM resources LIMIT 1000")]
    # Small pools (the machine's PostgreSQL is shared); a long DB_TIMEOUT, so that a
    # loaded machine slows requests down rather than failing them.
    base = replace(
        Settings.from_env({}), database_url=args.db, pool_min=1, pool_max=2, db_timeout=30
    )
    builds = {
        "off": replace(base, metrics_enabled=False),
        "metrics": base,
        "tracing": replace(base, metrics_enabled=False, otel_endpoint=args.otlp),
    }
    if args.otlp:
        os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = args.otlp
    async with AsyncExitStack() as stack:
        apps = {
            name: await stack.enter_async_context(serving(create_asgi(build_container(s))))
            for name, s in builds.items()
        }
        runs: dict[str, list[float]] = {name: [] for name in builds}
        failed = dict.fromkeys(builds, 0)
        names = list(builds)
        for r in range(args.rounds):
            order = names if r % 2 == 0 else names[::-1]
            for name in order:
                cpu, bad = await cpu_per_request(apps[name], ids, args.api_key, args.requests)
                runs[name].append(cpu)
                failed[name] += bad
            print(
                f"round {r + 1}: " + "  ".join(f"{n} {runs[n][-1]:.0f} µs" for n in names),
                flush=True,
            )
    off = statistics.median(runs["off"])
    for name in names:
        m = statistics.median(runs[name])
        print(
            f"{name:<8} median {m:.0f} µs CPU/request  ({(m / off - 1) * 100:+.1f} % vs off)"
            f"  not 200: {failed[name]}"
        )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", required=True)
    p.add_argument("--api-key", required=True)
    p.add_argument("--otlp", default="http://127.0.0.1:14318", help="where tracing exports")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--requests", type=int, default=2000)
    asyncio.run(main(p.parse_args()))
