"""`keygate serve` with no DATABASE_URL: an embedded PostgreSQL, gone again after Ctrl-C."""

from __future__ import annotations

import json
import signal
import urllib.request
from pathlib import Path

import pytest

from tests.support.processes import postgres_processes_for
from tests.support.servers import ServerProcess

pytestmark = pytest.mark.slow


def test_serves_on_embedded_postgres_and_leaves_nothing_behind(data_dir: Path) -> None:
    server = ServerProcess(None, {"KEYGATE_DATA_DIR": str(data_dir), "WORKERS": "1"})
    try:
        server.wait_ready(timeout=60)
        with urllib.request.urlopen(f"{server.url}/api/health", timeout=5) as response:
            body = json.load(response)
        assert body["status"] == "ok" and body["database"] == "ok"
        assert postgres_processes_for(data_dir), "no embedded postgres is running"
        assert server.stop(signal.SIGINT, group=True) == 0
    finally:
        server.cleanup()
    assert postgres_processes_for(data_dir) == []
