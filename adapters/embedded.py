"""An embedded PostgreSQL server (pgserver's real binaries) for zero-setup runs.

Every process that uses a data folder (`serve`, any CLI command) holds a handle on it:
the first one starts the server, the others connect to it, and the last one to leave
stops it. A holder that is killed cannot leave, so each holder is watched by a small
process of its own (`adapters/embedded_watch.py`) that leaves for it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shlex
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)


# pgserver counts the processes using a data folder here and stops the server when
# the last one leaves.
HANDLES_FILE = ".handle_pids.json"


@dataclass(frozen=True, slots=True)
class EmbeddedDatabase:
    """A running embedded server: its URL, and the shell command that opens it in psql."""

    url: str
    data_dir: Path
    psql_command: str


def quiet_platformdirs() -> None:
    """pgserver keeps its lock in the user's runtime folder and falls back to /tmp when
    XDG_RUNTIME_DIR is unset (most servers, containers); the warning says nothing an
    operator can act on."""
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")


def alive(pid: int) -> bool:
    """Whether `pid` runs; a zombie (dead, not yet reaped by its parent) does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        stat = ""
    # The state follows the parenthesised command name, which may itself hold spaces.
    if stat and stat.rpartition(")")[2].split()[:1] == ["Z"]:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _handles(data_dir: Path) -> list[int]:
    try:
        return [int(pid) for pid in json.loads((data_dir / HANDLES_FILE).read_text())]
    except (FileNotFoundError, ValueError, TypeError):
        return []


def live_handles(data_dir: Path) -> list[int]:
    """The processes that hold the server in `data_dir` and still run."""
    return [pid for pid in _handles(data_dir) if alive(pid)]


def forget_dead_handles(data_dir: Path) -> list[int]:
    """Strike dead processes off the data folder's handles (under pgserver's lock, or
    before any holder runs); the live ones."""
    pids = _handles(data_dir)
    living = [pid for pid in pids if alive(pid)]
    if living != pids:
        (data_dir / HANDLES_FILE).write_text(json.dumps(living))
    return living


def _watch(data_dir: Path) -> None:
    """Start the process that leaves this process's handle for it if it is killed."""
    log_path = data_dir.parent / f"{data_dir.name}.watch.log"
    with log_path.open("ab") as log_file:
        subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [sys.executable, "-m", "adapters.embedded_watch", str(data_dir), str(os.getpid())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            # Its own session: a Ctrl-C meant for serve does not end the watch early.
            start_new_session=True,
        )


class EmbeddedPostgres:
    """Holds the embedded server in `data_dir` (started if no one runs it) for as long as
    the block runs."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir.expanduser().resolve()
        self._server: object | None = None

    def __enter__(self) -> EmbeddedDatabase:
        quiet_platformdirs()
        # Imported here: only the zero-configuration path needs pgserver.
        import fasteners
        import pgserver
        from pgserver._commands import POSTGRES_BIN_PATH
        from pgserver.postgres_server import PostgresServer

        self._data_dir.parent.mkdir(parents=True, exist_ok=True)
        # A killed holder would otherwise count as a user of the server forever.
        with fasteners.InterProcessLock(PostgresServer.lock_path), contextlib.suppress(OSError):
            forget_dead_handles(self._data_dir)
        log.info("using embedded PostgreSQL in %s", self._data_dir)
        server = pgserver.get_server(self._data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
        self._server = server
        _watch(self._data_dir)
        uri: str = server.get_uri()
        psql = shlex.join([str(POSTGRES_BIN_PATH / "psql"), uri])
        return EmbeddedDatabase(url=uri, data_dir=self._data_dir, psql_command=psql)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            # pgserver's own exit hook would only leave again (and log it, possibly to a
            # stream that is closed by then).
            atexit.unregister(self._server._cleanup)  # type: ignore[attr-defined]
            self._server = None
