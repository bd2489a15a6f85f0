"""Real `keygate` command processes, and the processes a test looks for afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.servers import ROOT

KEYGATE = [sys.executable, "-m", "entrypoints.cli.main"]


def environment(database_url: str | None = None, **env: str) -> dict[str, str]:
    """This process's environment without DATABASE_URL (or with the one given)."""
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url:
        environment["DATABASE_URL"] = database_url
    environment.update(env)
    return environment


def keygate(
    *args: str, database_url: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`keygate ARGS...` run to its end; with no `database_url`, on the embedded server."""
    return subprocess.run(
        [*KEYGATE, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment(database_url, **env),
        timeout=120,
        check=False,
    )


def postgres_processes_for(data_dir: Path) -> list[str]:
    """The command lines of the processes that name `data_dir` (the embedded server's)."""
    listing = subprocess.run(
        ["ps", "-eww", "-o", "stat=,args="], capture_output=True, text=True, check=True
    )
    lines = [line.split(None, 1) for line in listing.stdout.splitlines() if line.strip()]
    return [
        args
        for stat, args in (line for line in lines if len(line) == 2)
        if str(data_dir) in args and not stat.startswith("Z") and "embedded_watch" not in args
    ]


def until(condition: Callable[[], bool], within: float) -> bool:
    """Whether `condition` came true within `within` seconds (polled)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
