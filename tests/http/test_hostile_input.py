"""Inputs found to break things once: each is a clear 4xx now, and logging goes on."""

from __future__ import annotations

import json

from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.http.strict_body import strict_json_body
from tests.support.clients import Client
from tests.support.keys import bearer, issue
from tests.support.logs import logged_rows


async def test_a_nul_in_the_path_is_logged_and_does_not_stop_logging(
    client: Client, container: Container, db: str
) -> None:
    assert (await client.get("/api/x%00y")).status_code == 404
    assert (await client.get("/api/health")).status_code == 200
    rows = await logged_rows(db, 2)
    assert {r["path"] for r in rows} == {"/api/x\ufffdy", "/api/health"}


async def test_nul_characters_in_text_are_400_not_500(client: Client, container: Container) -> None:
    admin = bearer(await issue(container, "root", permissions=("admin",)))
    writer = bearer(await issue(container, "alice"))
    hook = {"url": "https://e.example/h\u0000", "eventTypes": ["resource.created"]}
    for method, path, body, headers in (
        ("POST", "/api/auth/register", {"name": "nul\u0000byte"}, admin),
        ("POST", "/api/auth/register", {"name": "x", "userId": "a\u0000b"}, admin),
        ("GET", "/api/keys?userId=%00", None, admin),
        ("POST", "/api/webhooks", hook, writer),
        ("POST", "/api/resources", {"name": "a\u0000"}, writer),
    ):  # fmt: skip
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 400, (path, body, response.text)
        assert response.json()["error"]


async def test_deeply_nested_json_is_400_not_500(client: Client, container: Container) -> None:
    writer = bearer(await issue(container, "alice"))
    nested: object = {}
    for _ in range(500):
        nested = {"a": nested}
    deep_list = "[" * 5000 + "]" * 5000
    for path, raw in (
        ("/api/resources", json.dumps({"name": "d", "metadata": nested})),
        ("/api/resources", f'{{"name": "d", "metadata": {{"a": {deep_list}}}}}'),
        ("/api/auth/register", deep_list),
        ("/api/webhooks", deep_list),
    ):
        response = await client.post(
            path, content=raw, headers={**writer, "Content-Type": "application/json"}
        )
        assert response.status_code == 400, (path, response.text[:200])


async def test_paging_and_body_errors_speak_the_clients_language(
    client: Client, container: Container
) -> None:
    writer = bearer(await issue(container, "alice"))
    for query in ("limit=abc", "limit=1.5", "page=x"):
        response = await client.get(f"/api/resources?{query}", headers=writer)
        assert response.status_code == 400
        [detail] = response.json()["details"]
        assert detail["message"].startswith("must be an integer >= 1"), detail
    empty = await client.post(
        "/api/resources", content=b"", headers={**writer, "Content-Type": "application/json"}
    )
    assert empty.status_code == 400
    assert "'data'" not in empty.text


async def test_a_non_admin_may_not_filter_keys_even_by_their_own_user(
    client: Client, container: Container
) -> None:
    mine = await issue(container, "carol")
    response = await client.get("/api/keys?userId=carol", headers=bearer(mine))
    assert response.status_code == 403


def test_every_json_body_route_decodes_strictly(container: Container) -> None:
    """Litestar runs only the innermost before_request hook: one set on a handler or a
    controller would silently bring back lax coercion of JSON strings."""
    app = create_app(container)
    handlers = [
        handler
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if route.path.startswith("/api/") and handler.parsed_data_field is not None
    ]
    assert len({h.handler_name for h in handlers}) >= 5, [h.handler_name for h in handlers]
    for handler in handlers:
        assert handler.resolve_before_request() is strict_json_body, handler.handler_name
