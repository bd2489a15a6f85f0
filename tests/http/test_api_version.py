"""An unsupported Accept-Version is a 400 made after the key is known: counted against
the key's quota and attributed to it in request_logs, as every other refusal is."""

from __future__ import annotations

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue
from tests.support.logs import logged_rows


async def test_an_unsupported_version_with_a_valid_key_is_counted_and_attributed(
    client: Client, container: Container, db: str
) -> None:
    key = await issue(container, rate_limit=5)
    response = await client.get("/api/keys", headers={**bearer(key), "Accept-Version": "3"})
    assert response.status_code == 400
    assert response.json()["error"] == "Unsupported Accept-Version; supported versions: 1, 2"
    assert response.headers["x-ratelimit-remaining"] == "4"
    rows = await logged_rows(db, 1)
    assert [(r["status_code"], r["api_key_id"]) for r in rows] == [(400, key.key.id)]


async def test_an_unsupported_version_with_a_bad_key_is_a_401(client: Client) -> None:
    response = await client.get(
        "/api/keys", headers={"Authorization": "Bearer rk_nope", "Accept-Version": "3"}
    )
    assert response.status_code == 401


async def test_an_unsupported_version_on_a_public_route_is_a_400_uncounted(
    client: Client,
) -> None:
    response = await client.get("/api/health", headers={"Accept-Version": "3"})
    assert response.status_code == 400
    assert "x-ratelimit-remaining" not in response.headers
