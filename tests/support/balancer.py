"""HAProxy for tests: deploy/haproxy.cfg itself, run on 127.0.0.1 in front of the
`keygate serve` processes a test started (its DNS-found compose replicas replaced by
their ports), with its per-server counters read from the stats page."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import ROOT, free_port

CONFIG = ROOT / "deploy" / "haproxy.cfg"
# The one line that names the compose replicas; a test names its own servers instead.
SERVER_TEMPLATE = re.compile(r"^\s*server-template .*$", re.MULTILINE)


def haproxy() -> str:
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")
    assert found, "haproxy is not installed (Debian's package; .ci/run installs it)"
    return found


def check_interval(config: str) -> tuple[float, int]:
    """The backend's check `inter` (seconds) and `fall`, as haproxy.cfg sets them."""
    line = next(line for line in config.splitlines() if "default-server" in line)
    inter = re.search(r"\binter (\d+)(ms|s)\b", line)
    fall = re.search(r"\bfall (\d+)\b", line)
    assert inter and fall, line
    seconds = int(inter.group(1)) / (1000 if inter.group(2) == "ms" else 1)
    return seconds, int(fall.group(1))


def config_for(ports: Sequence[int]) -> str:
    servers = "\n".join(f"    server api{i} 127.0.0.1:{p} check" for i, p in enumerate(ports))
    text = CONFIG.read_text()
    assert SERVER_TEMPLATE.search(text), "deploy/haproxy.cfg names its servers otherwise"
    return SERVER_TEMPLATE.sub(servers, text)


@dataclass
class Balancer:
    url: str
    stats_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def states(self) -> dict[str, dict[str, str]]:
        """The keygate backend's servers, by name: HAProxy's stats row of each."""
        with urllib.request.urlopen(self.stats_url + ";csv", timeout=5) as response:
            text = response.read().decode().lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {
            row["svname"]: row
            for row in rows
            if row["pxname"] == "keygate" and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def answered(self) -> dict[str, int]:
        """Responses each server gave through the balancer (health checks not counted)."""
        classes = ("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other")
        return {name: sum(int(row[c] or 0) for c in classes) for name, row in self.states().items()}

    def wait_all_up(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if all(row["status"] == "UP" for row in self.states().values()):
                    return
            time.sleep(0.2)
        raise TimeoutError(f"not every server came up:\n{self.log.read_text()}")


@contextlib.contextmanager
def running_balancer(ports: Sequence[int]) -> Iterator[Balancer]:
    folder = Path(tempfile.mkdtemp(prefix="keygate-haproxy-"))
    config = folder / "haproxy.cfg"
    config.write_text(config_for(ports))
    port, stats = free_port(), free_port()
    env = {
        **os.environ,
        "HAPROXY_BIND": f"127.0.0.1:{port}",
        "HAPROXY_STATS_BIND": f"127.0.0.1:{stats}",
    }
    log = folder / "haproxy.log"
    with log.open("wb") as out:
        # -db: in the foreground, logging to stdout as the container does.
        process = subprocess.Popen(
            [haproxy(), "-db", "-f", str(config)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    balancer = Balancer(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{stats}/stats", process, log)
    try:
        balancer.wait_all_up()
        yield balancer
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)
