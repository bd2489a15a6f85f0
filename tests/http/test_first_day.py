"""Defaults that explain themselves to someone on their first day with keygate."""

from __future__ import annotations

from dataclasses import replace

import pytest

from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.clients import Client


async def register(client: Client, **body: object) -> str:
    response = await client.post("/api/auth/register", json={"name": "first app", **body})
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


async def test_a_missing_write_permission_says_how_to_get_it(client: Client) -> None:
    key = await register(client)  # self-service keys are read-only unless asked
    refused = await client.post(
        "/api/resources", json={"name": "x"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert refused.status_code == 403
    body = refused.json()
    assert body["error"] == "This key lacks the 'write' permission"
    assert '"permissions": ["read", "write"]' in body["hint"]
    assert "POST /api/auth/register" in body["hint"]

    writer = await register(client, permissions=["read", "write"])
    created = await client.post(
        "/api/resources", json={"name": "x"}, headers={"Authorization": f"Bearer {writer}"}
    )
    assert created.status_code == 201


async def test_other_refusals_carry_no_permission_hint(client: Client) -> None:
    refused = await client.post("/api/auth/register", json={"name": "x", "permissions": ["admin"]})
    assert refused.status_code == 403
    assert "hint" not in refused.json()


PREFLIGHT = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}


@pytest.mark.parametrize("origins", [(), ("https://app.example",)])
@pytest.mark.parametrize("path", ["/api/resources", "/api/v2/keys/1", "/api/nowhere"])
async def test_a_preflight_from_an_origin_not_allowed_is_a_403_saying_how_never_a_401(
    settings: Settings, origins: tuple[str, ...], path: str
) -> None:
    container = build_container(replace(settings, cors_origins=origins))
    async with Client(app=create_asgi(container)) as client:  # type: ignore[arg-type]
        response = await client.options(path, headers=PREFLIGHT)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    body = response.json()
    assert body["error"] == "CORS: origin http://localhost:3000 is not allowed"
    assert "CORS_ORIGINS=http://localhost:3000" in body["hint"]


async def test_an_allowed_preflight_needs_no_key(settings: Settings) -> None:
    container = build_container(replace(settings, cors_origins=("http://localhost:3000",)))
    async with Client(app=create_asgi(container)) as client:  # type: ignore[arg-type]
        response = await client.options("/api/resources", headers=PREFLIGHT)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"


async def test_the_root_points_to_the_docs_and_the_dashboard(client: Client) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for link in ('href="/docs"', 'href="/api/docs"', 'href="/dashboard"'):
        assert link in response.text


async def test_the_dashboard_sign_in_page_says_how_to_get_a_key(client: Client) -> None:
    response = await client.get("/dashboard/signin")
    assert response.status_code == 200
    assert "No key yet?" in response.text
    assert "/api/auth/register" in response.text
    assert "keygate keys issue" in response.text
