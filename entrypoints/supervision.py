"""Workers stop when the `serve` process that started them dies.

A server's workers are its children; if `serve` itself is killed (SIGKILL, OOM), nothing
would stop them and they would go on serving, reparented to PID 1. `serve` writes its
pid into the environment its workers inherit; each worker asks the kernel for SIGTERM
(its normal graceful stop, which writes its last request-log rows) when its parent goes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

SUPERVISOR_ENV = "KEYGATE_SUPERVISOR_PID"
PR_SET_PDEATHSIG = 1
# Where the kernel cannot be asked (not Linux), a thread looks this often.
POLL_SECONDS = 1.0


def become_supervisor() -> None:
    """In `serve`, before any worker starts."""
    os.environ[SUPERVISOR_ENV] = str(os.getpid())


def _ask_kernel() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        # Fires when the thread that spawned this process ends: granian and uvicorn
        # spawn (and respawn) workers from their main thread, which lives as long as
        # the process.
        return bool(libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(POLL_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def follow_supervisor() -> None:
    """In a worker: stop when the supervisor dies. Nothing in the supervisor itself (a
    single uvicorn process runs the app there) or outside `serve`."""
    raw = os.environ.get(SUPERVISOR_ENV, "")
    if not raw.isdigit() or int(raw) == os.getpid():
        return
    parent = int(raw)
    if not _ask_kernel():
        _watch(parent)
    if os.getppid() != parent:
        # It died before the request above was made.
        raise SystemExit("keygate: the serve process that started this worker is gone")
