"""An embedded PostgreSQL server (pgserver's real binaries) for zero-setup runs."""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """Starts a PostgreSQL server in `data_dir` on enter and stops it on exit."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir.expanduser().resolve()
        self._server: object | None = None

    def __enter__(self) -> str:
        import pgserver  # imported here: only the zero-configuration path needs it

        self._data_dir.parent.mkdir(parents=True, exist_ok=True)
        log.info("starting embedded PostgreSQL in %s", self._data_dir)
        server = pgserver.get_server(self._data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
        self._server = server
        uri: str = server.get_uri()
        return uri

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            log.info("stopping embedded PostgreSQL")
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None
