"""Real `keygate serve` processes for tests: start one, wait until it answers, stop it.

Small on purpose: tests that need several processes start several of these.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(database_url: str | None, extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return {**env, **(extra or {})}


class ServerProcess:
    """One `keygate serve` child process; its output goes to a file, read by `output()`."""

    def __init__(self, database_url: str | None, env: Mapping[str, str] | None = None) -> None:
        """`database_url` None: no DATABASE_URL at all, so serve starts its embedded server."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = int((env or {}).get("WORKERS", os.environ.get("WORKERS", "2")))
        self._final_output: str | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="keygate-serve-", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli.main", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=_environment(database_url, env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own process group: a Ctrl-C can reach it and its workers, and only them.
            start_new_session=True,
        )

    def output(self) -> str:
        if self._final_output is not None:
            return self._final_output
        return Path(self._log.name).read_text(errors="replace")

    def _workers_started(self) -> bool:
        # A granian worker still in its lifespan startup ignores a stop until granian's
        # kill timeout: tests that stop the server wait for every worker, not just one.
        # uvicorn's workers, likewise, take a stop that comes during their startup only
        # once it is done.
        out = self.output()
        if "Starting granian" in out:
            return out.count("Started worker-") >= self.workers
        if "Started parent process" in out:  # uvicorn with several workers
            return out.count("Application startup complete") >= self.workers
        return True

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until GET /api/health answers 200; fails early when the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"keygate serve exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/api/health", timeout=1) as response:
                    if response.status == 200 and self._workers_started():
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"keygate serve not ready after {timeout}s:\n{self.output()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0, group: bool = False) -> int:
        """Send `sig` (to the whole process group when `group`, as a terminal's Ctrl-C does)
        and wait for the exit status; SIGKILL everything (and fail) past `timeout`."""
        try:
            if self.process.poll() is None:
                if group:
                    os.killpg(self.process.pid, sig)
                else:
                    self.process.send_signal(sig)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill_group()
                raise TimeoutError(
                    f"keygate serve ignored signal {sig} for {timeout}s:\n{self.output()}"
                ) from None
        finally:
            self._log.close()

    def _kill_group(self) -> None:
        # Workers may outlive a main process that died: the whole group goes.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def cleanup(self) -> None:
        self._kill_group()
        self._log.close()
        with contextlib.suppress(OSError):
            self._final_output = self.output()  # for assertion messages after the block
            os.unlink(self._log.name)


@contextlib.contextmanager
def running_server(
    database_url: str | None, env: Mapping[str, str] | None = None
) -> Iterator[ServerProcess]:
    """A ready server, killed at the end if the test did not stop it itself."""
    server = ServerProcess(database_url, env)
    try:
        server.wait_ready()
        yield server
    finally:
        server.cleanup()
