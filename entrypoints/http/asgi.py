"""What an ASGI server imports in each worker process: the app, built from the environment."""

from __future__ import annotations

import logging

from entrypoints import heap
from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.http.edge import Edge
from entrypoints.logs import formatter
from entrypoints.settings import Settings
from entrypoints.supervision import follow_supervisor


def app_factory() -> Edge:
    follow_supervisor()
    settings = Settings.from_env()
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(settings.log_format))
    logging.basicConfig(level=settings.log_level, handlers=[handler])
    app = create_asgi(build_container(settings), hold_stop=True)
    heap.settle()
    return app
