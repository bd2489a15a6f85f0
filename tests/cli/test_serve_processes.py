"""`serve` as processes behave: a taken port is refused, and a `kill -9` of serve takes
its workers and its embedded PostgreSQL with it (their last log rows written)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import psycopg
import pytest

from entrypoints.container import embedded_database
from tests.support.cli import KEYGATE, environment
from tests.support.processes import postgres_processes_for, until
from tests.support.servers import ROOT, ServerProcess, running_server

pytestmark = pytest.mark.slow
# The bound: nothing of a killed serve is left after this long.
GONE_WITHIN_SECONDS = 10.0


def serve_on(port: int, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KEYGATE, "serve", "--port", str(port)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment(database_url, WORKERS="1"),
        timeout=60,
        check=False,
    )


def assert_refused(result: subprocess.CompletedProcess[str], port: int) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"keygate: error: port {port} is already in use")


def test_a_second_serve_on_the_same_port_exits_1_and_the_first_keeps_serving(db: str) -> None:
    with running_server(db, {"WORKERS": "2"}) as first:
        assert_refused(serve_on(first.port, db), first.port)
        with urllib.request.urlopen(f"{first.url}/api/health", timeout=5) as response:
            assert response.status == 200


def test_serve_on_a_port_another_program_listens_on_exits_1(db: str) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        assert_refused(serve_on(port, db), port)


def children_of(pid: int) -> list[psutil.Process]:
    return [
        p for p in psutil.Process(pid).children() if "embedded_watch" not in " ".join(p.cmdline())
    ]


def none_alive(processes: list[psutil.Process]) -> bool:
    return not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes)


def get(url: str) -> None:
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(url, timeout=5).close()


async def logged_paths(data_dir: Path) -> list[str]:
    with embedded_database(data_dir) as embedded:
        async with await psycopg.AsyncConnection.connect(embedded.url) as conn:
            rows = await (await conn.execute("SELECT path FROM request_logs")).fetchall()
    return sorted(r[0] for r in rows)


def test_kill_9_of_serve_takes_its_workers_and_embedded_postgres_along(data_dir: Path) -> None:
    # A long flush interval: the killed serve's workers hold unwritten rows.
    env = {"KEYGATE_DATA_DIR": str(data_dir), "WORKERS": "2", "LOG_FLUSH_INTERVAL": "1.0"}
    server = ServerProcess(None, env)
    try:
        server.wait_ready(timeout=60)
        workers = children_of(server.process.pid)
        assert len(workers) == 2, workers
        assert postgres_processes_for(data_dir)
        paths = [f"/api/lost-{i}" for i in range(20)]
        for path in paths:
            get(server.url + path)

        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        gone = until(
            lambda: none_alive(workers) and not postgres_processes_for(data_dir),
            GONE_WITHIN_SECONDS,
        )
        assert gone, f"left running: {postgres_processes_for(data_dir)} {workers}"
    finally:
        server.cleanup()
    logged = asyncio.run(logged_paths(data_dir))
    assert [p for p in logged if p.startswith("/api/lost-")] == sorted(paths)
