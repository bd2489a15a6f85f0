"""What entrypoints run outside the container's graph, needing no container: the schema
migrations and the embedded server (`keygate serve` and `migrate` before any pool
exists), and the request-log drain bound (the server's kill timeout)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from adapters.embedded import EmbeddedPostgres
from adapters.postgres.migrate import apply_migrations
from adapters.postgres.request_logs import DRAIN_SECONDS


async def migrate(database_url: str, connect_timeout: float) -> list[str]:
    """Apply pending migrations (under an advisory lock); the versions applied now."""
    return await apply_migrations(database_url, connect_timeout=connect_timeout)


def embedded_database(data_dir: Path) -> AbstractContextManager[str]:
    """An embedded PostgreSQL server in `data_dir`, for as long as the block runs; its URL."""
    return EmbeddedPostgres(data_dir)


# How long the request-log sink keeps retrying its last rows at shutdown.
LOG_DRAIN_SECONDS = DRAIN_SECONDS
