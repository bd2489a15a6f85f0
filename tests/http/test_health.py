from __future__ import annotations

from dataclasses import replace

import pytest

from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.clients import Client


async def test_health_reports_ok_with_database(client: Client) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["version"] == "1.0.0"
    assert isinstance(body["uptime"], float)
    assert "x-ratelimit-limit" not in response.headers


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/health"])
async def test_health_needs_no_key_on_every_path(client: Client, path: str) -> None:
    assert (await client.get(path)).status_code == 200


async def test_health_is_503_when_database_unreachable(settings: Settings) -> None:
    unreachable = replace(
        settings, database_url="postgresql://postgres@127.0.0.1:1/nothing", db_timeout=0.5
    )
    app = create_asgi(build_container(unreachable))
    async with Client(app=app, raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        response = await client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"] == "unreachable"
