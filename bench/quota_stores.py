"""Quota decisions per second and CPU per decision: the PostgreSQL store vs the Redis one.

Each worker process builds the real container (the same `CheckQuota` and store the outer
layer uses) and runs --concurrency tasks that decide for a key over --seconds; subjects are
one key or --keys keys picked at random; every key has a minute, an hour and a day window
(limits high enough that all are admitted: the cost of a decision, not of a refusal).

CPU per decision is the workers' CPU plus the store server's: the PostgreSQL backends
serving this database (other databases' load on the same server is not counted), or a
redis-server of the benchmark's own.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_quota \\
        uv run python bench/quota_stores.py --store pg --keys 1000 --workers 2

--sittings N runs the whole matrix (pg, redis) x (1, --keys keys) x (1, 2 workers) N times,
interleaved, and prints medians.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import product
from typing import Any

import psycopg

from adapters.postgres.migrate import apply_migrations
from application.quota import key_subject
from domain.quota import QuotaPolicy
from entrypoints.container import build_container
from entrypoints.lifecycle import running
from entrypoints.settings import Settings

POLICY = QuotaPolicy.of(per_hour=10**9, per_minute=10**9, per_day=10**9)
REDIS_PORT = 6391
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    store: str
    keys: int
    workers: int


@dataclass(frozen=True)
class Figures:
    decisions_per_s: float
    client_us: float  # workers' CPU per decision
    server_us: float  # the store server's CPU per decision


async def _decide_for(
    settings: Settings, keys: int, seconds: float, tasks: int, gate: Gate
) -> None:
    container = build_container(settings)
    check_quota = container.check_quota()
    subjects = [key_subject(1_000_000 + i) for i in range(keys)]
    async with running(container, wait=True):
        for subject in subjects[:tasks]:  # every connection opened, the script loaded
            await check_quota(subject, POLICY)
        gate.ready.put(os.getpid())
        await asyncio.to_thread(gate.go.wait)
        cpu = time.process_time()
        deadline = time.monotonic() + seconds
        done = 0

        async def loop() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                await check_quota(random.choice(subjects), POLICY)
                done += 1

        await asyncio.gather(*(loop() for _ in range(tasks)))
        gate.out.put((done, time.process_time() - cpu))
        # The backends stay until the server's CPU has been read.
        await asyncio.to_thread(gate.measured.wait)
        if settings.quota_store_url:
            await container.quota_store().stop()


@dataclass
class Gate:
    """Workers say when they are ready; the measurement starts for all at once."""

    ready: Any
    go: Any
    out: Any
    measured: Any


def _worker(settings: Settings, keys: int, seconds: float, tasks: int, gate: Gate) -> None:
    asyncio.run(_decide_for(settings, keys, seconds, tasks, gate))


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return found


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    # Only processes there at both ends: a backend of an earlier run that ended meanwhile
    # is not this run's (one that starts during the run is missed; the pools are full).
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())


def _backends(url: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


def measure(run: Run, url: str, redis_pid: int, seconds: float, tasks: int) -> Figures:
    settings = replace(
        Settings(), database_url=url, pool_min=4, pool_max=10,
        quota_store_url=f"redis://127.0.0.1:{REDIS_PORT}/0" if run.store == "redis" else None,
    )  # fmt: skip
    ctx = multiprocessing.get_context("spawn")
    gate = Gate(ctx.Queue(), ctx.Event(), ctx.Queue(), ctx.Event())
    workers = [
        ctx.Process(target=_worker, args=(settings, run.keys, seconds, tasks, gate))
        for _ in range(run.workers)
    ]
    for w in workers:
        w.start()
    for _ in workers:
        gate.ready.get(timeout=60)
    servers = _backends(url) if run.store == "pg" else [redis_pid]
    server_before = _cpu_seconds(servers)
    gate.go.set()
    results = [gate.out.get(timeout=seconds + 60) for _ in workers]
    server_cpu = _used(server_before, _cpu_seconds(servers))
    gate.measured.set()
    for w in workers:
        w.join()
    decisions = sum(d for d, _ in results)
    client_cpu = sum(c for _, c in results)
    return Figures(decisions / seconds, client_cpu / decisions * 1e6, server_cpu / decisions * 1e6)


@contextmanager
def own_redis() -> Iterator[int]:
    folder = tempfile.mkdtemp(prefix="bench-redis-")
    server = subprocess.Popen(
        ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", folder],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(50):
            ping = ["redis-cli", "-p", str(REDIS_PORT), "ping"]
            if subprocess.run(ping, capture_output=True).stdout.strip() == b"PONG":
                break
            time.sleep(0.1)
        time.sleep(0.3)
        if server.poll() is not None:  # its port taken: the CPU read would be another's
            raise SystemExit(f"redis-server could not start on port {REDIS_PORT}")
        yield server.pid
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def vacuum(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE quota_windows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=("pg", "redis"))
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32, help="tasks per worker")
    parser.add_argument("--sittings", type=int, default=0, help="the whole matrix N times")
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    asyncio.run(apply_migrations(url))
    if args.sittings:
        runs = [Run(s, k, w) for s, k, w in product(("pg", "redis"), (1, args.keys), (1, 2))]
    else:
        runs = [Run(args.store or "pg", args.keys, args.workers)]
    figures: dict[Run, list[Figures]] = {run: [] for run in runs}
    with own_redis() as redis_pid:
        for _ in range(max(1, args.sittings)):
            for run in runs:
                vacuum(url)
                figures[run].append(measure(run, url, redis_pid, args.seconds, args.concurrency))
                print(run, figures[run][-1], flush=True)
    print("\n| store | keys | workers | decisions/s | client µs/decision | server µs/decision |")
    print("|---|---:|---:|---:|---:|---:|")
    for run, found in figures.items():
        med = [statistics.median(getattr(f, n) for f in found) for n in Figures.__annotations__]
        print(f"| {run.store} | {run.keys} | {run.workers} | {med[0]:,.0f} | {med[1]:.0f} | "
              f"{med[2]:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
