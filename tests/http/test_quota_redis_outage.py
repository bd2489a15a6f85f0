"""The Redis quota store going away and coming back, with a redis-server of the test's
own (API.md, Quotas: "Either store being unreachable gives 503 + Retry-After, or
admission when so configured"). Never a 500, and no restart of keygate needed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.keys import bearer, issue
from tests.support.redis import RedisServer, redis_server


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


class _Lines(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


@pytest.fixture
def quota_warnings() -> Iterator[list[str]]:
    # On the logger itself: the app's logging set-up replaces the root's handlers (so
    # caplog's too) and writes stderr later from a queue thread.
    lines: list[str] = []
    handler = _Lines(lines)
    logger = logging.getLogger("application.quota")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


@pytest.mark.parametrize("on_failure", ["reject", "allow"])
async def test_an_unreachable_redis_is_a_503_or_admission_and_recovers_by_itself(
    settings: Settings,
    own_redis: RedisServer,
    on_failure: str,
    quota_warnings: list[str],
) -> None:
    configured = replace(
        settings, quota_store_url=own_redis.url, quota_on_store_failure=on_failure, db_timeout=1
    )
    container = build_container(configured)
    key = await issue(container, rate_limit=5)
    app = create_asgi(container)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        first = await client.get("/api/keys", headers=bearer(key))
        assert first.status_code == 200 and first.headers["x-ratelimit-remaining"] == "4"
        own_redis.stop()
        down = await client.get("/api/keys", headers=bearer(key))
        if on_failure == "reject":
            assert down.status_code == 503
            assert down.json() == {"error": "Rate limit service unavailable"}
            assert int(down.headers["retry-after"]) >= 1
        else:
            assert down.status_code == 200
            assert "x-ratelimit-remaining" not in down.headers  # admitted unchecked
        assert any("quota store unavailable" in line for line in quota_warnings)  # logged
        own_redis.start()  # nothing persisted: the counts of before are gone
        back = await client.get("/api/keys", headers=bearer(key))
        assert back.status_code == 200
        assert back.headers["x-ratelimit-remaining"] == "4"
