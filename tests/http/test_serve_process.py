"""A real `keygate serve`: stopping it (SIGTERM, or Ctrl-C to its process group) lets the
request in flight finish and writes every pending log row before it exits."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.logs import logged_rows_now
from tests.support.servers import running_server

REQUESTS = 300
STOPS = {
    "granian-SIGTERM": ("granian", signal.SIGTERM, False),
    "granian-ctrl-c": ("granian", signal.SIGINT, True),
    "uvicorn-SIGTERM": ("uvicorn", signal.SIGTERM, False),
    "uvicorn-ctrl-c": ("uvicorn", signal.SIGINT, True),
}


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
@pytest.mark.parametrize(("server", "sig", "group"), STOPS.values(), ids=STOPS.keys())
def test_stop_finishes_in_flight_work_and_writes_every_row(
    db: str, server: str, sig: int, group: bool
) -> None:
    # A long flush interval leaves rows pending at the stop: only the drain writes them.
    env = {"KEYGATE_SERVER": server, "WORKERS": "2", "LOG_FLUSH_INTERVAL": "1.0"}
    with running_server(db, env) as keygate:
        paths = [f"/api/probe/{i}" for i in range(REQUESTS)]
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda p: status_of(keygate.url + p), paths))
        assert set(statuses) == {404}

        body = b'{"name": "in flight"}'
        conn = socket.create_connection(("127.0.0.1", keygate.port), timeout=10)
        conn.sendall(
            b"POST /api/auth/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body[:5]
        )
        time.sleep(0.3)  # the request has reached the app and waits for its body
        exit_status: list[int] = []
        stopper = threading.Thread(
            target=lambda: exit_status.append(keygate.stop(sig, group=group))
        )
        stopper.start()
        time.sleep(1.0)
        assert keygate.process.poll() is None, "exited with a request in flight"
        conn.sendall(body[5:])
        answer = conn.recv(4096)
        conn.close()
        stopper.join()

    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    assert exit_status == [0], keygate.output()
    rows = [r for r in logged_rows_now(db) if r["path"] != "/api/health"]
    counts = Counter((r["method"], r["path"], r["status_code"]) for r in rows)
    expected = Counter({("GET", p, 404): 1 for p in paths})
    expected[("POST", "/api/auth/register", 201)] = 1
    assert counts == expected


@pytest.mark.slow
def test_a_burst_of_stop_signals_still_stops_the_server(db: str) -> None:
    # A second signal landing inside granian's handler of the first deadlocked its
    # supervisor (2 of 5 tries hung before the fix; tests/cli/test_server_signals.py
    # pins the cause down without a race). End to end, two tries:
    for _ in range(2):
        with running_server(db, {"KEYGATE_SERVER": "granian", "WORKERS": "1"}) as keygate:
            with contextlib.suppress(ProcessLookupError):
                for _ in range(300):  # back to back: the race needs no pause
                    os.kill(keygate.process.pid, signal.SIGTERM)
            assert keygate.stop(signal.SIGTERM, timeout=20) == 0, keygate.output()
