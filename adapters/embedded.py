"""An embedded PostgreSQL server (pgserver's real binaries) for zero-setup runs."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)


# pgserver counts the processes using a data folder here and stops the server when
# the last one leaves; a process that was killed never leaves, so the server would
# outlive every later run. Dead processes are struck off before each start.
HANDLES_FILE = ".handle_pids.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _forget_dead_handles(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, ValueError, TypeError):
        pids = json.loads(path.read_text())
        path.write_text(json.dumps([pid for pid in pids if _alive(int(pid))]))


class EmbeddedPostgres:
    """Starts a PostgreSQL server in `data_dir` on enter and stops it on exit."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir.expanduser().resolve()
        self._server: object | None = None

    def __enter__(self) -> str:
        import pgserver  # imported here: only the zero-configuration path needs it

        self._data_dir.parent.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(self._data_dir / HANDLES_FILE)
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
