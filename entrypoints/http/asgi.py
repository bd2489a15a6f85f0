"""What an ASGI server imports in each worker process: the app, built from the environment."""

from __future__ import annotations

import logging

from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.http.edge import Edge
from entrypoints.settings import Settings
from entrypoints.supervision import follow_supervisor


def app_factory() -> Edge:
    follow_supervisor()
    settings = Settings.from_env()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    return create_asgi(build_container(settings), hold_stop=True)
