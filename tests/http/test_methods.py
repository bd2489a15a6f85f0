"""HEAD wherever GET is served, OPTIONS and 405 naming every method a path serves, and
a JSON 404 for any unknown path under /api (the OpenAPI router's own is HTML)."""

from __future__ import annotations

import pytest

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue
from tests.support.logs import logged_rows


def methods(allow: str) -> set[str]:
    return {m.strip() for m in allow.split(",")}


@pytest.fixture
async def key_and_paths(client: Client, container: Container) -> tuple[dict[str, str], list[str]]:
    """A key, and a path of every GET route it may read."""
    admin = await issue(container, "root", permissions=("read", "write", "admin"))
    key = bearer(admin)
    made = (await client.post("/api/resources", json={"name": "r"}, headers=key)).json()
    hook = await client.post(
        "/api/webhooks",
        json={"url": "https://hooks.example/x", "eventTypes": ["resource.created"]},
        headers=key,
    )
    paths = ["/api/docs", "/api/docs/openapi.json", "/docs", "/dashboard/signin"]
    for prefix in ("/api", "/api/v1", "/api/v2"):
        paths += [
            f"{prefix}/health",
            f"{prefix}/keys",
            f"{prefix}/keys/{admin.key.id}/usage",
            f"{prefix}/resources",
            f"{prefix}/resources/{made['id']}",
            f"{prefix}/webhooks",
            f"{prefix}/webhooks/{hook.json()['id']}/deliveries",
        ]
    return key, paths


async def test_head_answers_as_get_does_without_the_body(
    client: Client, key_and_paths: tuple[dict[str, str], list[str]]
) -> None:
    key, paths = key_and_paths
    for path in paths:
        got = await client.get(path, headers=key)
        head = await client.head(path, headers=key)
        assert (head.status_code, path) == (got.status_code, path)
        assert head.content == b"", path
        for header in ("content-type", "etag", "x-ratelimit-limit"):
            assert head.headers.get(header) == got.headers.get(header), (path, header)
        # The length a GET would have (v2's meta and health's uptime vary by a digit).
        assert abs(int(head.headers["content-length"]) - len(got.content)) <= 2, path


async def test_head_on_health_is_logged_as_head(client: Client, db: str) -> None:
    response = await client.head("/api/health")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 0
    rows = await logged_rows(db, 1)
    assert [(r["method"], r["path"], r["status_code"]) for r in rows] == [
        ("HEAD", "/api/health", 200)
    ]


async def test_head_where_get_is_not_served_is_a_405(client: Client) -> None:
    response = await client.head("/api/auth/register")
    assert response.status_code == 405
    assert methods(response.headers["allow"]) == {"OPTIONS", "POST"}


async def test_options_names_every_method_of_the_path(client: Client, container: Container) -> None:
    key = bearer(await issue(container))
    for path, expected in (
        ("/api/resources", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("/api/v2/resources/1", {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "PUT"}),
        ("/api/keys", {"GET", "HEAD", "OPTIONS"}),
        ("/api/auth/register", {"OPTIONS", "POST"}),
        ("/api/webhooks", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("/api/health", {"GET", "HEAD", "OPTIONS"}),
        ("/dashboard/signin", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("/dashboard/keys/3/revoke", {"GET", "HEAD", "OPTIONS", "POST"}),
    ):
        response = await client.options(path, headers=key)
        assert response.status_code == 204, path
        assert methods(response.headers["allow"]) == expected, path


async def test_a_405_names_every_method_of_the_path(client: Client, container: Container) -> None:
    key = bearer(await issue(container))
    for method, path, expected in (
        ("PUT", "/api/keys", {"GET", "HEAD", "OPTIONS"}),
        ("DELETE", "/api/health", {"GET", "HEAD", "OPTIONS"}),
        ("POST", "/api/resources/1", {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "PUT"}),
        ("GET", "/api/v1/auth/register", {"OPTIONS", "POST"}),
        ("PUT", "/dashboard/signin", {"GET", "HEAD", "OPTIONS", "POST"}),
    ):
        response = await client.request(method, path, headers=key)
        assert response.status_code == 405, (method, path)
        assert response.json() == {"error": "Method not allowed"}
        assert methods(response.headers["allow"]) == expected, (method, path)


@pytest.mark.parametrize(
    "path", ["/api/docs/swagger", "/api/docs/redoc", "/api/docs/x/y", "/api/v1/docs/swagger"]
)
async def test_an_unknown_path_under_api_is_a_json_404(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "Not found"}
