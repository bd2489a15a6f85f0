"""The database a command works on: `DATABASE_URL`'s, or else the embedded server.

With no `DATABASE_URL`, `serve` and every other command use the embedded server in
`KEYGATE_DATA_DIR`: joined when it runs (a `serve`, or another command, started it),
started for the command otherwise and stopped after it. Its migrations are applied by
whoever uses it, so a command on a fresh data folder finds the schema in place.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from entrypoints.cli.common import EXIT_USAGE, CliError, first_line, run_async
from entrypoints.container import EmbeddedDatabase, embedded_database, migrate
from entrypoints.settings import Settings


@dataclass(frozen=True, slots=True)
class Database:
    url: str
    embedded: EmbeddedDatabase | None = None
    applied: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line saying which database this is and, for the embedded one, how to open it."""
        if self.embedded is None:
            return f"database: {redacted(self.url)} (DATABASE_URL)"
        return (
            f"database: embedded PostgreSQL in {self.embedded.data_dir};"
            f" open it with: {self.embedded.psql_command}"
        )


def redacted(url: str) -> str:
    """`url` without its password, for printing."""
    if "://" not in url:
        return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", url)
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@contextmanager
def database(settings: Settings, *, migrate_external: bool = False) -> Iterator[Database]:
    """The database for as long as the block runs; migrated when it is the embedded one
    (or when `migrate_external`, as `serve` and `migrate` ask)."""
    with ExitStack() as stack:
        embedded = None
        url = settings.database_url
        if not url:
            embedded = stack.enter_context(_embedded(settings))
            url = embedded.url
        applied: list[str] = []
        if embedded is not None or migrate_external:
            applied = run_async(lambda: migrate(url, connect_timeout=settings.db_timeout))
        yield Database(url, embedded, applied)


@contextmanager
def _embedded(settings: Settings) -> Iterator[EmbeddedDatabase]:
    try:
        server = embedded_database(settings.data_dir)
        started = server.__enter__()
    except ImportError:
        # The production image leaves the embedded server out (dependency group
        # "embedded"): there, a missing DATABASE_URL is a configuration error.
        raise CliError(
            "DATABASE_URL is not set, and the embedded PostgreSQL is not installed here"
            " (uv sync --group embedded): set DATABASE_URL",
            EXIT_USAGE,
        ) from None
    except (OSError, subprocess.SubprocessError, AssertionError) as exc:
        raise CliError(
            f"the embedded PostgreSQL in {settings.data_dir} did not start ({first_line(exc)});"
            f" its log: {settings.data_dir}/log"
        ) from None
    try:
        yield started
    finally:
        server.__exit__(None, None, None)
