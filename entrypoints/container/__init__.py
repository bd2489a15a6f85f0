"""The composition root, the one entrypoint package that imports adapters (the
import-linter contract says so): HTTP, the dashboard and the CLI get everything concrete
from here. `root.py` is the container itself, `observability.py` and `webhooks.py` build
parts of it; `standalone.py` is what runs before one."""

from entrypoints.container.root import VERSION, Container, build_container
from entrypoints.container.standalone import (
    LOG_DRAIN_SECONDS,
    EmbeddedDatabase,
    embedded_database,
    migrate,
    serve_metrics,
)

__all__ = [
    "LOG_DRAIN_SECONDS",
    "VERSION",
    "Container",
    "EmbeddedDatabase",
    "build_container",
    "embedded_database",
    "migrate",
    "serve_metrics",
]
