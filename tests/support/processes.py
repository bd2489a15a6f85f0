"""The processes a test looks for after a `keygate` process ends."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path


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
