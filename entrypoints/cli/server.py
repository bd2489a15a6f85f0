"""Runs the ASGI app under the chosen server (see README: why granian by default).

On SIGTERM each worker first reports itself not ready and keeps serving for
SHUTDOWN_DELAY seconds (entrypoints/lifecycle.py, hold_stop_signal). Then, and at once on
Ctrl-C, both servers stop accepting, let in-flight requests finish, run the
lifespan shutdown (which writes every pending request-log row) and exit with status 0.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import signal
from collections.abc import Iterator
from typing import Any

from entrypoints.container import LOG_DRAIN_SECONDS
from entrypoints.logs import formatter_config
from entrypoints.settings import Settings

APP_FACTORY = "entrypoints.http.asgi:app_factory"
# How long in-flight requests may take to finish once a stop was asked for.
GRACEFUL_SECONDS = 30
WORKER_PING_SECONDS = 60
# Past this (plus SHUTDOWN_DELAY) a worker is killed: in-flight requests, then the log
# drain, then some slack.
KILL_AFTER_SECONDS = GRACEFUL_SECONDS + int(LOG_DRAIN_SECONDS) + 5


@contextlib.contextmanager
def _stop_signals_end_normally() -> Iterator[None]:
    """A single uvicorn process re-raises the stop signal after its graceful shutdown,
    which would turn a clean stop into death by signal (or a KeyboardInterrupt); the
    shutdown is already complete by then, so the re-raised signal is absorbed."""
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_server(settings: Settings) -> None:
    # Every worker must open every other's dashboard sessions; without a configured
    # secret they share one made here (sessions then end when the server restarts).
    os.environ.setdefault("SESSION_SECRET", secrets.token_hex(32))
    if settings.server == "uvicorn":
        import uvicorn

        with _stop_signals_end_normally():
            uvicorn.run(
                APP_FACTORY,
                factory=True,
                host=settings.host,
                port=settings.port,
                workers=settings.workers,
                log_level=settings.log_level.lower(),
                access_log=False,
                timeout_graceful_shutdown=GRACEFUL_SECONDS,
                # uvicorn kills a worker that does not answer its ping within this, and
                # a worker still importing the app on a loaded machine took over the
                # default 5 s: killed and respawned over and over, it never served.
                timeout_worker_healthcheck=WORKER_PING_SECONDS,
            )
        return

    from granian.constants import Interfaces

    granian_server()(
        APP_FACTORY,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        factory=True,
        log_access=False,
        # granian's own lines ("Listening at", workers started) in the same form as ours.
        log_dictconfig=granian_logging(settings.log_format),
        workers_kill_timeout=KILL_AFTER_SECONDS + math.ceil(settings.shutdown_delay),
        # A worker that dies (killed, out of memory) is replaced and the others keep
        # serving; one dying again within seconds of its respawn stops the server
        # (granian's crash-loop guard). The rows it had buffered die with it (README).
        respawn_failed_workers=True,
    ).serve()


def granian_logging(log_format: str) -> dict[str, Any] | None:
    if log_format != "json":
        return None  # granian's own text lines, as before
    json_lines = formatter_config("json")
    return {"formatters": {"generic": json_lines, "access": json_lines}}


def granian_server() -> type[Any]:
    """granian's server, acting on the first stop signal only.

    A second stop signal that lands while the first is being handled re-entered
    threading.Event.set and deadlocked on its lock, leaving the supervisor alive
    forever (seen: Ctrl-C reaches the whole process group and `uv run` forwards it
    as well)."""
    from granian.server import Server

    class OnceStoppedServer(Server):  # type: ignore[misc,valid-type]
        def signal_handler_interrupt(self, *args: object, **kwargs: object) -> None:
            if self.interrupt_signal:
                return
            super().signal_handler_interrupt(*args, **kwargs)

    return OnceStoppedServer
