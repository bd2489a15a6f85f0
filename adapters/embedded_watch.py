"""Run as `python -m adapters.embedded_watch DATA_DIR PID`: waits for process PID, one
holder of the embedded server in DATA_DIR, to end, and then does what it could not do
itself if it was killed: leave, and stop the server when no one else holds it.

A holder that ends normally has already left (and stopped the server if it was the
last), so then there is nothing to do. `serve`'s workers outlive it by the moment
they take to write their last request-log rows (they stop when their parent dies):
the server waits for its clients to go, for a bounded time, before it stops.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time
from pathlib import Path

from adapters.embedded import alive, forget_dead_handles, live_handles, quiet_platformdirs

# How long the server waits for the killed holder's clients (its workers) to leave.
CLIENTS_GRACE_SECONDS = 5.0
# How long a fast shutdown may take before the server is told to quit at once.
SHUTDOWN_SECONDS = 10.0
POLL_SECONDS = 0.1


def wait_for_exit(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):
        # No pidfd here: poll instead.
        while alive(pid):
            time.sleep(POLL_SECONDS)
        return
    try:
        select.select([fd], [], [])
    finally:
        os.close(fd)


def postmaster(data_dir: Path) -> tuple[int, str, str] | None:
    """The server's pid, socket folder and port, from its postmaster.pid; None when down."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None
    if not alive(pid):
        return None
    return pid, (lines[4] if len(lines) > 4 else ""), (lines[3] if len(lines) > 3 else "")


def client_count(socket_dir: str, port: str) -> int:
    import psycopg

    try:
        with psycopg.connect(
            host=socket_dir, port=port, user="postgres", dbname="postgres", connect_timeout=2
        ) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchone()
    except psycopg.Error:
        return 0
    return int(row[0]) if row else 0


def let_clients_leave(data_dir: Path) -> None:
    deadline = time.monotonic() + CLIENTS_GRACE_SECONDS
    while time.monotonic() < deadline:
        server = postmaster(data_dir)
        if server is None or client_count(server[1], server[2]) == 0:
            return
        time.sleep(POLL_SECONDS)


def stop(pid: int) -> None:
    # SIGINT is PostgreSQL's fast shutdown: sessions are ended, the data stays consistent.
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + SHUTDOWN_SECONDS
    while alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGQUIT)
            return
        time.sleep(POLL_SECONDS)


def stop_if_unheld(data_dir: Path) -> None:
    quiet_platformdirs()
    import fasteners
    from pgserver.postgres_server import PostgresServer

    # pgserver's own lock: no holder starts or joins the server while this decides.
    with fasteners.InterProcessLock(PostgresServer.lock_path):
        if forget_dead_handles(data_dir):
            return
        server = postmaster(data_dir)
        if server is not None:
            print(f"holder gone: stopping the server in {data_dir}", file=sys.stderr, flush=True)
            with contextlib.suppress(ProcessLookupError):
                stop(server[0])


def main(argv: list[str]) -> int:
    data_dir, holder = Path(argv[0]), int(argv[1])
    wait_for_exit(holder)
    if postmaster(data_dir) is None or live_handles(data_dir):
        return 0
    let_clients_leave(data_dir)
    stop_if_unheld(data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
