"""Running the `keygate` command as an operator would: a real process."""

from __future__ import annotations

import os
import subprocess
import sys

KEYGATE = [sys.executable, "-m", "entrypoints.cli.main"]
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=2"


def keygate(
    *args: str, database_url: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url:
        environment["DATABASE_URL"] = database_url
    environment.update(env)
    return subprocess.run(
        [*KEYGATE, *args], capture_output=True, text=True, env=environment, timeout=60, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], status: int) -> None:
    assert result.returncode == status, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("keygate: error:")
    assert "Traceback" not in result.stderr + result.stdout
