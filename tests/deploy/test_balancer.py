"""Two real `keygate serve` instances (one database, one Redis quota store) behind a real
HAProxy running deploy/haproxy.cfg: what scaling out promises, seen through the balancer."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from entrypoints.container import Container
from tests.support.balancer import CONFIG, Balancer, check_interval, running_balancer
from tests.support.keys import bearer, issue
from tests.support.logs import logged_rows_now
from tests.support.redis import REDIS_URL, redis_prefix
from tests.support.servers import ServerProcess, running_server

pytestmark = pytest.mark.slow

# HAProxy marks an instance down after `fall` failed checks, one every `inter`: the
# instance must keep serving longer than that once its readiness is 503. Roomy, for a
# loaded machine's slower answers.
INTER, FALL = check_interval(CONFIG.read_text())
SHUTDOWN_DELAY = 3 * INTER * FALL
DOWN_ON_READINESS = "Server keygate/api0 is DOWN, reason: Layer7 wrong status, code: 503"
HEALTH_PATHS = {"/api/health", "/api/health/ready"}


@contextmanager
def two_instances_behind_haproxy(
    db: str,
) -> Iterator[tuple[ServerProcess, ServerProcess, Balancer]]:
    with redis_prefix() as prefix, ExitStack() as stack:
        env = {
            "WORKERS": "1",
            "QUOTA_STORE_URL": REDIS_URL,
            "QUOTA_STORE_PREFIX": prefix,
            "TRUSTED_PROXIES": "127.0.0.1",
            "SHUTDOWN_DELAY": str(SHUTDOWN_DELAY),
        }
        a = stack.enter_context(running_server(db, env))
        b = stack.enter_context(running_server(db, env))
        yield a, b, stack.enter_context(running_balancer([a.port, b.port]))


def logged(db: str) -> Counter[tuple[str, str, int]]:
    """request_logs rows as (method, path, status), the health checks left out."""
    rows = logged_rows_now(db)
    return Counter(
        (r["method"], r["path"], r["status_code"]) for r in rows if r["path"] not in HEALTH_PATHS
    )


async def test_limits_and_revocations_hold_across_instances_behind_the_balancer(
    db: str, open_container: Container
) -> None:
    limited = await issue(open_container, rate_limit=20)
    revoked = await issue(open_container)
    with two_instances_behind_haproxy(db) as (a, b, lb):
        limits = httpx.Limits(max_connections=60)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            responses = await asyncio.gather(
                *(http.get(f"{lb.url}/api/keys", headers=bearer(limited)) for _ in range(60))
            )
            # The balancer spread them over both instances, and together they admitted
            # exactly the key's limit.
            assert Counter(r.status_code for r in responses) == {200: 20, 429: 40}
            spread = lb.answered()
            assert sorted(spread) == ["api0", "api1"] and sum(spread.values()) == 60
            assert min(spread.values()) > 0, spread

            # b has the key in its cache; a revokes it; b refuses it at once.
            key = bearer(revoked)
            assert (await http.get(f"{b.url}/api/keys", headers=key)).status_code == 200
            assert (
                await http.delete(f"{a.url}/api/keys/{revoked.key.id}", headers=key)
            ).status_code == 204
            assert (await http.get(f"{b.url}/api/keys", headers=key)).status_code == 401
            assert (await http.get(f"{lb.url}/api/keys", headers=key)).status_code == 401
        assert a.stop() == 0 and b.stop() == 0

    assert logged(db) == {
        ("GET", "/api/keys", 200): 21,
        ("GET", "/api/keys", 429): 40,
        ("DELETE", f"/api/keys/{revoked.key.id}", 204): 1,
        ("GET", "/api/keys", 401): 2,
    }


class Stream:
    """Requests one after another through the balancer, on a thread, until stopped."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.answers: list[int | str] = []
        self._url, self._headers = url, headers
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=30, headers=self._headers) as http:
            while not self._stop.is_set():
                try:
                    self.answers.append(http.get(self._url).status_code)
                except httpx.HTTPError as exc:
                    self.answers.append(type(exc).__name__)

    def wait_for(self, count: int) -> None:
        target = len(self.answers) + count
        while len(self.answers) < target:
            assert self._thread.is_alive()
            self._stop.wait(0.05)

    def stop(self) -> list[int | str]:
        self._stop.set()
        self._thread.join()
        return self.answers


async def test_sigterm_of_one_instance_fails_none_of_a_steady_stream_of_requests(
    db: str, open_container: Container
) -> None:
    key = await issue(open_container, rate_limit=1_000_000)
    with two_instances_behind_haproxy(db) as (a, b, lb):
        stream = Stream(f"{lb.url}/api/keys", bearer(key))
        stream.wait_for(50)
        stopped = await asyncio.to_thread(a.stop)  # returns once a has exited
        assert stopped == 0, a.output()
        # The balancer took a out on its 503, before a closed its listener: it never had
        # to retry a request a refused (which it would do on b, hiding the refusal).
        changes = [line for line in lb.log.read_text().splitlines() if "Server keygate/" in line]
        assert any(DOWN_ON_READINESS in line for line in changes), changes
        left = lb.states()["api0"]
        assert left["status"].startswith("DOWN")
        assert (left["econ"], left["wretr"], left["wredis"]) == ("0", "0", "0"), left
        stream.wait_for(50)  # b alone serves on
        answers = stream.stop()
        served = lb.answered()
        assert b.stop() == 0, b.output()

    assert Counter(answers) == {200: len(answers)}
    assert min(served.values()) > 0, served
    assert logged(db) == {("GET", "/api/keys", 200): len(answers)}
