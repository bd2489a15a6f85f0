"""The multi-process scrape on real worker processes: what a dead worker leaves behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from adapters.prometheus.scrape import exposition
from tests.support.metrics import parse, total, value

# A worker: sets its levels and counts one request, then waits on stdin (alive) or exits.
WORKER = """
import sys
from adapters.prometheus.metrics import PrometheusMetrics
metrics = PrometheusMetrics()
metrics.request_started()
metrics.gauges(buffered=5, pool={"idle": 1, "used": 1})
metrics.quota_decision("admitted")
print("ready", flush=True)
if sys.argv[1] == "stay":
    sys.stdin.read()
"""


def worker(directory: Path, mode: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, mode],
        env={"PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(Path.cwd())},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def test_a_dead_worker_keeps_its_counts_and_loses_its_levels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    living = worker(tmp_path, "stay")
    try:
        dead = worker(tmp_path, "exit")
        dead.wait()
        samples = parse(exposition(None)[0].decode())
        assert value(samples, "keygate_quota_decisions_total", outcome="admitted") == 2
        assert value(samples, "http_server_active_requests") == 1
        assert value(samples, "keygate_request_log_buffered") == 5
        assert total(samples, "keygate_db_pool_connections") == 2
        assert not list(tmp_path.glob(f"gauge_live*_{dead.pid}.db"))
        assert list(tmp_path.glob(f"gauge_live*_{living.pid}.db"))
    finally:
        living.communicate("")
