"""The quota check's cost (issue #4), measured two ways.

1. The statement alone: N sequential `quota_take` calls against the database as it is;
   run it on an empty `request_logs` and again after `generate.py --logs 10000000`.
2. keygate in-process: authenticated requests through the real ASGI app (pipeline,
   key cache, Litestar) with the quota store on, and with it replaced by one that
   admits without I/O -- the difference is what the quota costs a request.

    DATABASE_URL=... uv run python bench/quota.py [--calls 3000] [--requests 3000]

No network and no load generator: CPU time and wall time per call, medians of --runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import replace

import psycopg

from domain.audit import CLI
from domain.key_requests import KeyRequest
from domain.keys import OPERATOR, Permission
from domain.quota import QuotaDecision
from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings


class AdmitAll:
    async def take(self, subject: str, limit: int) -> QuotaDecision:
        return QuotaDecision(True, limit, limit - 1, 0, 3600)


def statement_cost(url: str, calls: int) -> tuple[int, float]:
    with psycopg.connect(url, autocommit=True) as conn:
        (logs,) = conn.execute("SELECT count(*) FROM request_logs").fetchone()  # type: ignore[misc]
        take = "SELECT * FROM quota_take(%s, %s)"
        for _ in range(200):
            conn.execute(take, ("key:bench-quota", 10**9))
        start = time.perf_counter()
        for _ in range(calls):
            conn.execute(take, ("key:bench-quota", 10**9))
        return logs, (time.perf_counter() - start) / calls * 1e6


async def app_cost(url: str, requests: int, quota_on: bool) -> tuple[float, float]:
    container = build_container(replace(Settings(), database_url=url))
    if not quota_on:
        container.quota_store.override(AdmitAll())
    app = create_asgi(container)
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    started = asyncio.Event()

    async def lifespan_send(message: dict[str, str]) -> None:
        started.set()

    await inbox.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, lifespan_send)  # type: ignore[arg-type]
    )
    await started.wait()
    request = KeyRequest("bench", frozenset({Permission.READ}), "bench", 10**9)
    issued = await container.issue_key()(request, OPERATOR, "bench", origin=CLI)
    await asyncio.sleep(0.3)
    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {issued.raw_key}".encode())]

    async def one() -> None:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": "/api/keys", "raw_path": b"/api/keys", "query_string": b"",
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 1), "state": {},
            "server": ("127.0.0.1", 8000),
        }  # fmt: skip

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                assert message["status"] == 200, message

        await app(scope, receive, send)  # type: ignore[arg-type]

    for _ in range(200):
        await one()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(requests):
        await one()
    result = (
        (time.process_time() - cpu) / requests * 1e6,
        (time.perf_counter() - wall) / requests * 1e6,
    )
    await inbox.put({"type": "lifespan.shutdown"})
    await lifespan
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.db:
        parser.error("--db or DATABASE_URL is required")

    costs = [statement_cost(args.db, args.calls) for _ in range(args.runs)]
    logs = costs[0][0]
    print(
        f"quota_take with {logs:,} request_logs rows: median "
        f"{statistics.median(c for _, c in costs):.0f} us per call (sequential, one connection)"
    )
    for quota_on in (True, False):
        runs = [asyncio.run(app_cost(args.db, args.requests, quota_on)) for _ in range(args.runs)]
        cpu = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        print(
            f"GET /api/keys in-process, quota {'on ' if quota_on else 'off'}: median "
            f"{cpu:.0f} us CPU, {wall:.0f} us wall per request (~{1e6 / wall:,.0f} req/s one loop)"
        )


if __name__ == "__main__":
    main()
