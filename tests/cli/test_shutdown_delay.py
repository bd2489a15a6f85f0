"""A real `keygate serve` asked to stop (SIGTERM): readiness turns 503 at once in every
worker, the API keeps answering for SHUTDOWN_DELAY seconds, then the server stops as it
always did (status 0, every request logged)."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from collections import Counter

import pytest

from tests.support.logs import logged_rows_now
from tests.support.servers import running_server

WORKERS = 2
# Roomy: the test's requests after the first 503 must fit in it on a loaded machine.
DELAY_SECONDS = 8
AFTER_NOT_READY = 10


def answer(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.slow
@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_sigterm_turns_readiness_503_while_the_api_still_answers(db: str, server: str) -> None:
    env = {"KEYGATE_SERVER": server, "WORKERS": str(WORKERS), "SHUTDOWN_DELAY": str(DELAY_SECONDS)}
    # (path, status) of each request this test sends; serve's own start polls
    # /api/health, so the test's liveness requests go to /api/v1/health.
    sent: Counter[tuple[str, int]] = Counter()

    def ask(path: str) -> tuple[int, dict[str, object]]:
        status, body = answer(keygate.url + path)
        sent[path, status] += 1
        return status, body

    with running_server(db, env) as keygate:
        status, body = ask("/api/health/ready")
        assert (status, body["status"]) == (200, "ready"), body
        keygate.process.send_signal(signal.SIGTERM)

        # Until the stop shows, readiness answers (200, then 503): never a refused connection.
        while (reply := ask("/api/health/ready"))[0] == 200:
            pass
        assert reply == (
            503,
            {
                "status": "unavailable",
                "checks": {"database": "ok", "migrations": "ok", "shutdown": "stopping"},
            },
        )
        # Not ready, and still serving: liveness and the rest of the API answer.
        later = [ask("/api/v1/health")[0] for _ in range(AFTER_NOT_READY)]
        assert later == [200] * AFTER_NOT_READY
        assert ask("/api/health/ready")[0] == 503
        assert keygate.stop(timeout=DELAY_SECONDS + 60) == 0, keygate.output()

    # Each worker held the stop itself (granian and uvicorn hand SIGTERM to every worker).
    assert keygate.output().count("stopping: not ready") == WORKERS, keygate.output()
    logged = Counter(
        (row["path"], row["status_code"])
        for row in logged_rows_now(db)
        if row["path"] != "/api/health"
    )
    assert logged == sent
