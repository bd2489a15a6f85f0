"""Quota headers and refusals over HTTP (API.md, Rate limiting)."""

from __future__ import annotations

import re
from dataclasses import replace

import psycopg

from entrypoints.container import Container, build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.clients import Client
from tests.support.keys import bearer, issue


def assert_quota_headers(headers: object, limit: int, remaining: int) -> None:
    h = headers  # httpx.Headers
    assert h["x-ratelimit-limit"] == str(limit)  # type: ignore[index]
    assert h["x-ratelimit-remaining"] == str(remaining)  # type: ignore[index]
    assert h["ratelimit-policy"] == f'"hourly";q={limit};w=3600'  # type: ignore[index]
    match = re.fullmatch(r'"hourly";r=(\d+);t=(\d+)', h["ratelimit"])  # type: ignore[index]
    assert match and int(match[1]) == remaining
    assert 0 <= int(match[2]) <= 3660


async def test_headers_on_2xx_and_4xx_and_404s_count(client: Client, container: Container) -> None:
    key = await issue(container, rate_limit=5)
    ok = await client.get("/api/keys", headers=bearer(key))
    assert ok.status_code == 200
    assert_quota_headers(ok.headers, 5, 4)
    bad = await client.get("/api/keys?page=0", headers=bearer(key))
    assert bad.status_code == 400
    assert_quota_headers(bad.headers, 5, 3)
    missing = await client.get("/api/no-such-thing", headers=bearer(key))
    assert missing.status_code == 404
    assert_quota_headers(missing.headers, 5, 2)
    not_theirs = await client.delete("/api/keys/424242", headers=bearer(key))
    assert not_theirs.status_code == 404
    assert_quota_headers(not_theirs.headers, 5, 1)


async def test_429_with_retry_after_and_rejections_consume_nothing(
    client: Client, container: Container, db: str
) -> None:
    key = await issue(container, rate_limit=2)
    for _ in range(2):
        assert (await client.get("/api/keys", headers=bearer(key))).status_code == 200
    for _ in range(3):
        refused = await client.get("/api/keys", headers=bearer(key))
        assert refused.status_code == 429
        assert_quota_headers(refused.headers, 2, 0)
        seconds = int(refused.headers["retry-after"])
        assert 1 <= seconds <= 3660
        assert refused.json() == {
            "error": f"Rate limit exceeded. Limit: 2 requests/hour. Try again in {seconds} seconds."
        }
    with psycopg.connect(db) as conn:
        (counts,) = conn.execute(
            "SELECT counts FROM quota_windows WHERE subject = %s", (f"key:{key.key.id}",)
        ).fetchone()  # type: ignore[misc]
    assert sum(counts) == 2


async def test_health_and_docs_are_not_counted(client: Client, container: Container) -> None:
    key = await issue(container, rate_limit=1)
    for _ in range(3):
        response = await client.get("/api/health", headers=bearer(key))
        assert response.status_code == 200
        assert "x-ratelimit-limit" not in response.headers
    assert (await client.get("/api/keys", headers=bearer(key))).status_code == 200


async def test_a_raised_limit_applies_at_once(
    client: Client, container: Container, db: str
) -> None:
    key = await issue(container, rate_limit=1)
    assert (await client.get("/api/keys", headers=bearer(key))).status_code == 200
    assert (await client.get("/api/keys", headers=bearer(key))).status_code == 429
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE api_keys SET rate_limit = 10 WHERE id = %s", (key.key.id,))
    for _ in range(50):  # the change arrives by NOTIFY; allow it a moment
        response = await client.get("/api/keys", headers=bearer(key))
        if response.status_code == 200:
            break
    assert response.status_code == 200
    assert response.headers["x-ratelimit-limit"] == "10"


async def test_store_down_rejects_with_503_by_default_or_admits_when_configured(
    settings: Settings, open_container: Container
) -> None:
    key = await issue(open_container)
    for mode, expected in (("reject", 503), ("allow", 200)):
        app_container = build_container(replace(settings, quota_on_store_failure=mode))
        app_container.quota_store.override(
            build_container(
                replace(
                    settings, database_url="postgresql://postgres@127.0.0.1:1/x", db_timeout=0.2
                )
            ).quota_store()
        )
        async with Client(app=create_asgi(app_container)) as client:  # type: ignore[arg-type]
            response = await client.get("/api/keys", headers=bearer(key))
        assert response.status_code == expected, mode
        if expected == 503:
            assert response.json()["error"] == "Rate limit service unavailable"
            assert int(response.headers["retry-after"]) >= 1
