"""Runs the ASGI app under the chosen server (see README: why granian by default)."""

from __future__ import annotations

import os
import secrets

from entrypoints.settings import Settings

APP_FACTORY = "entrypoints.http.asgi:app_factory"


def run_server(settings: Settings) -> None:
    # Every worker must open every other's dashboard sessions; without a configured
    # secret they share one made here (sessions then end when the server restarts).
    os.environ.setdefault("SESSION_SECRET", secrets.token_hex(32))
    if settings.server == "uvicorn":
        import uvicorn

        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level.lower(),
            access_log=False,
            timeout_graceful_shutdown=30,
        )
        return

    from granian.constants import Interfaces
    from granian.server import Server

    Server(
        APP_FACTORY,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        factory=True,
        log_access=False,
    ).serve()
