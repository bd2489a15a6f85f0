"""`serve` claims its port before anything starts, and refuses a port that is taken.

granian's workers each bind the port with SO_REUSEPORT, which would let a second
`keygate serve` on the same port start and share the connections with the first (each
on its own database, perhaps). So the port is first bound without SO_REUSEPORT, which
fails while anything listens on it; and a lock per port, held for the life of `serve`,
keeps two servers that start in the same instant from both passing that check.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from entrypoints.cli.common import CliError


def _taken(port: int) -> CliError:
    return CliError(
        f"port {port} is already in use (another keygate serve?);"
        " stop it or choose another port with --port or PORT"
    )


def _lock_path(port: int) -> Path:
    return Path(tempfile.gettempdir()) / f"keygate-{os.getuid()}-port-{port}.lock"


def _probe(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CliError(f"cannot listen on {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # Allowed: sockets of a previous run in TIME_WAIT. Not allowed: any listener.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise _taken(port) from None
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


@contextmanager
def claimed(host: str, port: int) -> Iterator[None]:
    """The port, free and kept from other `keygate serve`s while the block runs.
    Port 0 (any free port) needs no claim."""
    if port == 0:
        yield
        return
    with _lock_path(port).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _taken(port) from None
        _probe(host, port)
        yield
