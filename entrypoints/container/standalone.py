"""What entrypoints run outside the container's graph, needing no container: the schema
migrations and the embedded server (`keygate serve` and `migrate` before any pool
exists), the request-log drain bound (the server's kill timeout), and the metrics
directory and port `serve` sets up for its workers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from adapters.embedded import EmbeddedDatabase as EmbeddedDatabase  # the CLI's type
from adapters.embedded import EmbeddedPostgres
from adapters.postgres.migrate import apply_migrations
from adapters.postgres.request_logs import DRAIN_SECONDS
from adapters.prometheus.scrape import metrics_server, worker_directory
from entrypoints.settings import Settings


async def migrate(database_url: str, connect_timeout: float) -> list[str]:
    """Apply pending migrations (under an advisory lock); the versions applied now."""
    return await apply_migrations(database_url, connect_timeout=connect_timeout)


def embedded_database(data_dir: Path) -> AbstractContextManager[EmbeddedDatabase]:
    """The embedded PostgreSQL server in `data_dir` (joined if running, else started), for
    as long as the block runs."""
    return EmbeddedPostgres(data_dir)


# How long the request-log sink keeps retrying its last rows at shutdown.
LOG_DRAIN_SECONDS = DRAIN_SECONDS


@contextlib.contextmanager
def serve_metrics(settings: Settings) -> Iterator[int | None]:
    """For the workers of one `serve`: a fresh multi-process metrics directory, so they
    add up to one scrape, and with METRICS_PORT the scrape on that port, served by this
    process; yields that port (None: the scrape is on the API port, or metrics are off).
    Raises OSError when METRICS_PORT cannot be bound."""
    if not settings.metrics_enabled:
        yield None
        return
    with worker_directory():
        if settings.metrics_port is None:
            yield None
            return
        with metrics_server(settings.host, settings.metrics_port, settings.metrics_token) as bound:
            yield bound
