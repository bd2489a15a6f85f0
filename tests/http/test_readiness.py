"""GET /api/health/ready: the answer a load balancer routes by (the stop itself is in
tests/cli/test_shutdown_delay.py, with real processes)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from entrypoints.container import Container, build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.clients import Client
from tests.support.database import fresh_database
from tests.support.redis import REDIS_URL

READY = {"database": "ok", "migrations": "ok", "shutdown": "no"}


async def readiness(settings: Settings) -> tuple[int, dict[str, object], dict[str, str]]:
    container = build_container(settings)
    app = create_asgi(container)
    async with Client(app=app, raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        response = await client.get("/api/health/ready")
    return response.status_code, response.json(), dict(response.headers)


@pytest.mark.parametrize("path", ["/api/health/ready", "/api/v1/health/ready"])
async def test_ready_when_the_database_answers_and_is_migrated(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": READY}
    assert "x-ratelimit-limit" not in response.headers


async def test_a_stopping_process_is_not_ready(client: Client, container: Container) -> None:
    container.shutdown_state().begin()
    response = await client.get("/api/health/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {**READY, "shutdown": "stopping"},
    }
    # Liveness is another question: the process still answers.
    assert (await client.get("/api/health")).status_code == 200


async def test_not_ready_without_the_database(settings: Settings) -> None:
    unreachable = replace(
        settings, database_url="postgresql://postgres@127.0.0.1:1/nothing", db_timeout=0.5
    )
    status, body, _ = await readiness(unreachable)
    assert status == 503
    assert body == {
        "status": "unavailable",
        "checks": {"database": "unreachable", "migrations": "unknown", "shutdown": "no"},
    }


async def test_not_ready_on_a_database_with_migrations_pending(
    settings: Settings, server_url: str
) -> None:
    with fresh_database(server_url) as empty:
        status, body, _ = await readiness(replace(settings, database_url=empty))
    assert status == 503
    assert body == {"status": "unavailable", "checks": {**READY, "migrations": "pending"}}


async def test_a_configured_quota_store_is_checked(settings: Settings) -> None:
    status, body, _ = await readiness(replace(settings, quota_store_url=REDIS_URL))
    assert (status, body) == (200, {"status": "ready", "checks": {**READY, "quotaStore": "ok"}})

    away = replace(settings, quota_store_url="redis://127.0.0.1:1/0", db_timeout=0.5)
    status, body, _ = await readiness(away)
    assert status == 503
    assert body == {"status": "unavailable", "checks": {**READY, "quotaStore": "unreachable"}}
