"""The CLI's small pieces: how a database is named, a taken port, a worker's parent."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from entrypoints.cli import port
from entrypoints.cli.common import CliError
from entrypoints.cli.database import redacted
from entrypoints.supervision import SUPERVISOR_ENV


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://kg:secret@db:5432/kg", "postgresql://kg:***@db:5432/kg"),
        ("postgresql://kg@db/kg", "postgresql://kg@db/kg"),
        ("host=db user=kg password=secret dbname=kg", "host=db user=kg password=*** dbname=kg"),
        ("host=db password='a b' dbname=kg", "host=db password=*** dbname=kg"),
    ],
)
def test_a_database_is_named_without_its_password(url: str, shown: str) -> None:
    assert redacted(url) == shown


def test_a_port_someone_listens_on_is_refused_naming_it() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        with (
            pytest.raises(CliError, match=f"port {taken} is already in use"),
            port.claimed("127.0.0.1", taken),
        ):
            pass


def test_a_claimed_port_is_refused_to_a_second_claim() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    second = pytest.raises(CliError, match=f"port {free}")
    with port.claimed("127.0.0.1", free), second, port.claimed("127.0.0.1", free):
        pass
    # Free again once the first claim ends.
    with port.claimed("127.0.0.1", free):
        pass


def test_a_worker_whose_serve_is_already_gone_does_not_start() -> None:
    # In a process of its own: the request to the kernel would outlive the test.
    check = "from entrypoints.supervision import follow_supervisor; follow_supervisor()"
    gone = subprocess.run(
        [sys.executable, "-c", check],
        env={**os.environ, SUPERVISOR_ENV: "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert gone.returncode == 1
    assert "the serve process that started this worker is gone" in gone.stderr
    alone = subprocess.run(
        [sys.executable, "-c", check],
        env={k: v for k, v in os.environ.items() if k != SUPERVISOR_ENV},
        check=False,
    )
    assert alone.returncode == 0
