"""LOG_FORMAT=json on a real `keygate serve`: every log line (granian's and keygate's,
from the workers' queue thread too) is one JSON object, and a line logged inside a
request carries its request id."""

from __future__ import annotations

import json
import signal

import httpx
import pytest

from entrypoints.container import Container
from tests.support.keys import bearer, issue
from tests.support.servers import running_server

pytestmark = pytest.mark.slow


async def test_every_log_line_is_one_json_object_with_the_request_id(
    db: str, open_container: Container
) -> None:
    key = await issue(open_container)
    # Nothing listens on port 1: each keyed request logs the quota store's failure.
    env = {"WORKERS": "2", "LOG_FORMAT": "json", "QUOTA_STORE_URL": "redis://127.0.0.1:1/0"}
    with running_server(db, env) as server:
        async with httpx.AsyncClient(timeout=10) as http:
            headers = {**bearer(key), "X-Request-Id": "json-line-1"}
            assert (await http.get(f"{server.url}/api/keys", headers=headers)).status_code == 503
        assert server.stop(signal.SIGTERM) == 0
        output = server.output()
    lines = [line for line in output.splitlines() if not line.startswith("keygate: ")]
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["logger"] == "_granian" for r in records)
    [warning] = [r for r in records if r.get("requestId") == "json-line-1"]
    assert (warning["level"], warning["logger"]) == ("WARNING", "application.quota")
    assert "quota store unavailable" in warning["message"]
