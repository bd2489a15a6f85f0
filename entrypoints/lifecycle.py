"""Start and stop, written once: the pool and the background services around a run of
`serve` (the HTTP lifespan) or of a CLI command."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from application.health import ShutdownState
from entrypoints.container import LOG_DRAIN_SECONDS, Container

log = logging.getLogger(__name__)

# A shutdown must end: the request-log drain is the longest stop, nothing needs more.
SERVICE_STOP_SECONDS = LOG_DRAIN_SECONDS + 5
POOL_CLOSE_SECONDS = 5.0


class Service(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@asynccontextmanager
async def running(
    container: Container, services: Sequence[Service] = (), *, wait: bool = False
) -> AsyncIterator[Container]:
    """The pool open and `services` started, for as long as the block runs; then every
    started service stopped (last first, each within a bound) and the pool closed.

    `serve` opens the pool without waiting (health reports a database that is not up
    yet); a CLI command waits for it, so that an unreachable database is its error."""
    pool = container.pool()
    if wait:
        await pool.open(wait=True, timeout=container.settings().db_timeout)
    else:
        await pool.open(wait=False)
    started: list[Service] = []
    try:
        for service in services:
            await service.start()
            started.append(service)
        yield container
    finally:
        for service in reversed(started):
            await _stop_within(service, SERVICE_STOP_SECONDS)
        await pool.close(timeout=POOL_CLOSE_SECONDS)


async def _stop_within(service: Service, seconds: float) -> None:
    try:
        await asyncio.wait_for(service.stop(), seconds)
    except TimeoutError:
        log.error("%s did not stop within %.0f s; shutting down anyway", service, seconds)
    except Exception:
        log.exception("%s failed to stop cleanly", service)


def hold_stop_signal(shutdown: ShutdownState, delay: float, server: str) -> None:
    """In a `serve` worker, from its lifespan (on the server's event loop): SIGTERM turns
    readiness 503 at once, and the server's own graceful stop (listener closed, requests
    in flight finished, the request log drained) begins `delay` seconds later, so that a
    load balancer has seen the 503 and stopped sending by then.

    Both servers set their stop handler before the lifespan starts; this one takes
    SIGTERM's place and hands the stop on later: to uvicorn's handler itself (set with
    signal.signal, so it can be read back), and to granian as SIGINT, on which it stops
    the same way (its handler lives on the event loop, where it cannot be read back).
    SIGINT (Ctrl-C) stays an immediate stop; a second SIGTERM changes nothing."""
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)

    def hand_on() -> None:
        if server == "uvicorn" and callable(previous):
            previous(signal.SIGTERM, None)
        else:
            os.kill(os.getpid(), signal.SIGINT)

    def on_stop() -> None:
        if shutdown.stopping:
            return
        shutdown.begin()
        if delay:
            log.info("stopping: not ready, serving %.3g s more before closing", delay)
        loop.call_later(delay, hand_on)

    loop.add_signal_handler(signal.SIGTERM, on_stop)
