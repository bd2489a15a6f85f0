from __future__ import annotations

import asyncio
from typing import Any

import pytest

from domain.keys import IssuedKey
from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue


# Keys are issued through the client's container: its lifespan owns the open pool.
@pytest.fixture
async def alice(client: Client, container: Container) -> IssuedKey:
    return await issue(container, "alice", ("read", "write"), rate_limit=10_000)


@pytest.fixture
async def bob(client: Client, container: Container) -> IssuedKey:
    return await issue(container, "bob", ("read", "write"), rate_limit=10_000)


async def create(client: Client, who: IssuedKey, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/resources", json={"name": "r", **body}, headers=bearer(who))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_create_returns_201_location_etag_and_the_resource(
    client: Client, alice: IssuedKey
) -> None:
    body = {"name": "Widget", "description": "d", "category": "tools", "metadata": {"a": [1]}}
    response = await client.post("/api/v1/resources", json=body, headers=bearer(alice))
    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"/api/v1/resources/{created['id']}"
    assert response.headers["etag"].startswith('"')
    assert {k: created[k] for k in body} == body
    assert created["createdBy"] == "alice"
    assert created["createdAt"].endswith("Z") and created["createdAt"] == created["updatedAt"]
    got = await client.get(response.headers["location"], headers=bearer(alice))
    assert got.json() == created
    assert got.headers["etag"] == response.headers["etag"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "id": 5}, "id"),
        ({"name": "x", "createdBy": "mallory"}, "createdBy"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"description": "d"}, "name"),
        ({"name": "x", "description": "d" * 10_001}, "description"),
        ({"name": "x", "category": "c" * 101}, "category"),
        ({"name": "x", "metadata": [1, 2]}, "metadata"),
        ({"name": "x", "metadata": "text"}, "metadata"),
    ],
)
async def test_invalid_bodies_are_400_with_details(
    client: Client, alice: IssuedKey, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/resources", json=body, headers=bearer(alice))
    assert response.status_code == 400
    error = response.json()
    assert isinstance(error["error"], str)
    assert field in [d["field"] for d in error["details"]]


async def test_malformed_json_is_400_json(client: Client, alice: IssuedKey) -> None:
    response = await client.post(
        "/api/resources",
        content=b'{"name": ',
        headers={**bearer(alice), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "error" in response.json()


async def test_body_over_one_mebibyte_is_413_json(client: Client, alice: IssuedKey) -> None:
    response = await client.post(
        "/api/resources",
        json={"name": "x", "description": "d" * (1024 * 1024)},
        headers=bearer(alice),
    )
    assert response.status_code == 413
    assert "error" in response.json()
    assert response.headers["x-request-id"]


async def test_permissions_read_for_get_write_for_changes(
    client: Client, container: Container, alice: IssuedKey
) -> None:
    reader = await issue(container, "alice", ("read",), rate_limit=1000)
    writer = await issue(container, "alice", ("write",), rate_limit=1000)
    made = await create(client, alice)
    refused = await client.post("/api/resources", json={"name": "x"}, headers=bearer(reader))
    assert refused.status_code == 403
    assert refused.json()["error"] == "This key lacks the 'write' permission"
    for method in ("put", "patch"):
        response = await client.request(
            method, f"/api/resources/{made['id']}", json={"name": "y"}, headers=bearer(reader)
        )
        assert response.status_code == 403
    deleted = await client.delete(f"/api/resources/{made['id']}", headers=bearer(reader))
    assert deleted.status_code == 403
    listed = await client.get("/api/resources", headers=bearer(writer))
    assert listed.status_code == 403
    assert listed.json()["error"] == "This key lacks the 'read' permission"
    assert (await client.get("/api/resources", headers=bearer(reader))).status_code == 200


async def test_unauthenticated_resource_requests_are_401(client: Client) -> None:
    response = await client.get("/api/resources")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_put_replaces_and_nulls_omitted_fields(client: Client, alice: IssuedKey) -> None:
    made = await create(client, alice, description="d", category="c", metadata={"k": 1})
    response = await client.put(
        f"/api/resources/{made['id']}", json={"name": "new"}, headers=bearer(alice)
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["description"], body["category"], body["metadata"]) == (
        "new",
        None,
        None,
        None,
    )
    assert body["updatedAt"] > made["updatedAt"]
    assert body["createdAt"] == made["createdAt"]
    missing_name = await client.put(
        f"/api/resources/{made['id']}", json={"description": "x"}, headers=bearer(alice)
    )
    assert missing_name.status_code == 400


async def test_patch_changes_given_fields_and_explicit_null_clears(
    client: Client, alice: IssuedKey
) -> None:
    made = await create(client, alice, description="d", category="c", metadata={"k": 1})
    response = await client.patch(
        f"/api/resources/{made['id']}",
        json={"description": None, "metadata": {"k": 2}},
        headers=bearer(alice),
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["description"], body["category"], body["metadata"]) == (
        "r",
        None,
        "c",
        {"k": 2},
    )
    assert body["updatedAt"] > made["updatedAt"]
    empty = await client.patch(f"/api/resources/{made['id']}", json={}, headers=bearer(alice))
    assert empty.status_code == 200
    assert empty.json()["updatedAt"] > body["updatedAt"]
    null_name = await client.patch(
        f"/api/resources/{made['id']}", json={"name": None}, headers=bearer(alice)
    )
    assert null_name.status_code == 400
    unknown = await client.patch(
        f"/api/resources/{made['id']}", json={"id": 9}, headers=bearer(alice)
    )
    assert unknown.status_code == 400


async def test_delete_is_204_then_404(client: Client, alice: IssuedKey) -> None:
    made = await create(client, alice)
    url = f"/api/resources/{made['id']}"
    response = await client.delete(url, headers=bearer(alice))
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(url, headers=bearer(alice))).status_code == 404
    assert (await client.delete(url, headers=bearer(alice))).status_code == 404


async def test_only_creator_or_admin_may_change(
    client: Client, container: Container, alice: IssuedKey, bob: IssuedKey
) -> None:
    made = await create(client, alice)
    url = f"/api/resources/{made['id']}"
    assert (await client.get(url, headers=bearer(bob))).status_code == 200
    assert (await client.put(url, json={"name": "b"}, headers=bearer(bob))).status_code == 403
    assert (await client.patch(url, json={"name": "b"}, headers=bearer(bob))).status_code == 403
    assert (await client.delete(url, headers=bearer(bob))).status_code == 403
    admin = await issue(container, "root", ("admin",), rate_limit=1000)
    assert (await client.patch(url, json={"name": "a"}, headers=bearer(admin))).status_code == 200
    assert (await client.delete(url, headers=bearer(admin))).status_code == 204


async def test_if_match_guards_put_patch_delete(client: Client, alice: IssuedKey) -> None:
    made = await client.post("/api/resources", json={"name": "r"}, headers=bearer(alice))
    url = made.headers["location"]
    old_tag = made.headers["etag"]
    changed = await client.patch(
        url, json={"name": "s"}, headers={**bearer(alice), "If-Match": old_tag}
    )
    assert changed.status_code == 200
    new_tag = changed.headers["etag"]
    assert new_tag != old_tag
    for method, body in (("put", {"name": "t"}), ("patch", {"name": "t"}), ("delete", None)):
        stale = await client.request(
            method, url, json=body, headers={**bearer(alice), "If-Match": old_tag}
        )
        assert stale.status_code == 412, method
        assert "error" in stale.json()
    weak = await client.put(
        url, json={"name": "t"}, headers={**bearer(alice), "If-Match": f"W/{new_tag}"}
    )
    assert weak.status_code == 412
    fresh = await client.delete(url, headers={**bearer(alice), "If-Match": new_tag})
    assert fresh.status_code == 204


@pytest.mark.parametrize(
    "rid", ["0", "-1", "2147483648", "99999999999999999999", "abc", "1.5", "%20"]
)
async def test_ids_outside_positive_int32_are_4xx_never_500(
    client: Client, alice: IssuedKey, rid: str
) -> None:
    for method in ("get", "put", "patch", "delete"):
        body = {"name": "x"} if method in ("put", "patch") else None
        response = await client.request(
            method, f"/api/resources/{rid}", json=body, headers=bearer(alice)
        )
        assert response.status_code in (400, 404), (method, rid, response.text)
        assert "error" in response.json()


async def test_idempotency_key_replays_the_first_response(
    client: Client, alice: IssuedKey, bob: IssuedKey
) -> None:
    headers = {**bearer(alice), "Idempotency-Key": "order-1"}
    body = {"name": "once", "metadata": {"a": 1, "b": 2}}
    first = await client.post("/api/resources", json=body, headers=headers)
    again = await client.post(
        "/api/resources", json={"metadata": {"b": 2, "a": 1}, "name": "once"}, headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    listed = await client.get("/api/resources", headers=bearer(alice))
    assert listed.json()["pagination"]["total"] == 1
    different = await client.post("/api/resources", json={"name": "other"}, headers=headers)
    assert different.status_code == 422
    assert "error" in different.json()
    # Keys are per user: bob's same key is a different request.
    bobs = await client.post(
        "/api/resources", json=body, headers={**bearer(bob), "Idempotency-Key": "order-1"}
    )
    assert bobs.status_code == 201
    assert bobs.json()["id"] != first.json()["id"]


async def test_concurrent_duplicates_create_one_row(client: Client, alice: IssuedKey) -> None:
    headers = {**bearer(alice), "Idempotency-Key": "race"}
    responses = await asyncio.gather(
        *(client.post("/api/resources", json={"name": "race"}, headers=headers) for _ in range(8))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    listed = await client.get("/api/resources", headers=bearer(alice))
    assert listed.json()["pagination"]["total"] == 1


async def test_expired_idempotency_key_may_be_reused(
    client: Client, alice: IssuedKey, database_url: str
) -> None:
    import psycopg

    headers = {**bearer(alice), "Idempotency-Key": "old"}
    first = await client.post("/api/resources", json={"name": "a"}, headers=headers)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 s'")
    second = await client.post("/api/resources", json={"name": "b"}, headers=headers)
    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]


# --- lists


async def seed(client: Client, who: IssuedKey, names: list[tuple[str, str | None]]) -> None:
    for name, category in names:
        await create(client, who, name=name, category=category, description=f"about {name}")


async def test_list_defaults_pagination_and_v1_shape(client: Client, alice: IssuedKey) -> None:
    await seed(client, alice, [(f"n{i}", None) for i in range(25)])
    response = await client.get("/api/resources", headers=bearer(alice))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "pagination"}
    page = body["pagination"]
    assert {k: page[k] for k in ("page", "limit", "total", "totalPages", "hasNext")} == {
        "page": 1,
        "limit": 20,
        "total": 25,
        "totalPages": 2,
        "hasNext": True,
    }
    assert page["nextCursor"]
    # Default order: newest first.
    assert [r["name"] for r in body["data"][:2]] == ["n24", "n23"]
    last = await client.get("/api/resources?page=2", headers=bearer(alice))
    assert len(last.json()["data"]) == 5
    assert last.json()["pagination"]["hasNext"] is False
    assert last.json()["pagination"]["nextCursor"] is None
    beyond = await client.get("/api/resources?page=99", headers=bearer(alice))
    assert beyond.json()["data"] == [] and beyond.json()["pagination"]["total"] == 25


async def test_limit_above_100_is_capped(client: Client, alice: IssuedKey) -> None:
    response = await client.get("/api/resources?limit=5000", headers=bearer(alice))
    assert response.status_code == 200
    assert response.json()["pagination"]["limit"] == 100


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("limit=0", "limit"),
        ("limit=-5", "limit"),
        ("limit=x", "limit"),
        ("sort=id", "sort"),
        ("order=sideways", "order"),
        ("cursor=forged", "cursor"),
        ("page=1&cursor=x", "page"),
        ("search=" + "s" * 201, "search"),
        ("page=99999999999999999999999", "page"),
    ],
)
async def test_bad_list_parameters_are_400_naming_the_parameter(
    client: Client, alice: IssuedKey, query: str, param: str
) -> None:
    response = await client.get(f"/api/resources?{query}", headers=bearer(alice))
    if query.startswith("page=9999"):
        # Valid (just far past the end): must never overflow into a 500.
        assert response.status_code == 200
        assert response.json()["data"] == []
        return
    assert response.status_code == 400, response.text
    body = response.json()
    assert param in [d["field"] for d in body["details"]]


async def test_sort_errors_list_the_allowed_values(client: Client, alice: IssuedKey) -> None:
    response = await client.get("/api/resources?sort=id", headers=bearer(alice))
    assert "name, created_at, category" in response.json()["details"][0]["message"]


async def test_category_and_search_filter(client: Client, alice: IssuedKey) -> None:
    await seed(
        client,
        alice,
        [("Alpha", "x"), ("beta", "x"), ("ALPHABET", "y"), ("100% real", None), ("a_b", None)],
    )
    h = bearer(alice)

    async def names(query: str) -> list[str]:
        response = await client.get(f"/api/resources?sort=name&order=asc&{query}", headers=h)
        assert response.status_code == 200
        return [r["name"] for r in response.json()["data"]]

    assert await names("category=x") == ["Alpha", "beta"]
    assert await names("search=alpha") == ["ALPHABET", "Alpha"]
    assert await names("search=%25") == ["100% real"]
    assert await names("search=_") == ["a_b"]
    assert await names("search=about%20beta") == ["beta"]  # description matches too
    assert await names("search=alpha&category=y") == ["ALPHABET"]


async def test_cursor_walk_visits_every_row_once(client: Client, alice: IssuedKey) -> None:
    await seed(client, alice, [(f"n{i % 4}", None) for i in range(23)])
    h = bearer(alice)
    seen: list[int] = []
    response = await client.get("/api/resources?sort=name&order=desc&limit=5", headers=h)
    pages = 0
    while True:
        body = response.json()
        seen += [r["id"] for r in body["data"]]
        pages += 1
        if not body["pagination"]["hasNext"]:
            break
        cursor = body["pagination"]["nextCursor"]
        response = await client.get(f"/api/resources?limit=5&cursor={cursor}", headers=h)
        assert response.json()["pagination"]["page"] is None
    assert sorted(seen) == list(range(1, 24))
    assert pages == 5


async def test_v2_wraps_lists_and_single_bodies(client: Client, alice: IssuedKey) -> None:
    made = await create(client, alice)
    listed = await client.get("/api/v2/resources", headers=bearer(alice))
    body = listed.json()
    assert set(body) == {"data", "meta"}
    assert body["data"][0]["id"] == made["id"]
    assert body["meta"]["requestId"] == listed.headers["x-request-id"]
    assert body["meta"]["pagination"]["total"] == 1
    one = await client.get(
        f"/api/resources/{made['id']}", headers={**bearer(alice), "Accept-Version": "2"}
    )
    assert one.json()["data"] == made
    assert "pagination" not in one.json()["meta"]
    # Errors are not wrapped.
    missing = await client.get("/api/v2/resources/999", headers=bearer(alice))
    assert missing.status_code == 404
    assert set(missing.json()) == {"error"}


# --- errors, headers, CORS


@pytest.mark.parametrize("with_key", [True, False])
async def test_unknown_path_is_404_json(client: Client, alice: IssuedKey, with_key: bool) -> None:
    headers = bearer(alice) if with_key else {}
    response = await client.get("/api/v1/nothing/here", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]
    assert response.headers["x-request-id"]


async def test_wrong_method_is_405_json(client: Client, alice: IssuedKey) -> None:
    response = await client.delete("/api/resources", headers=bearer(alice))
    assert response.status_code == 405
    assert response.json()["error"]


async def test_request_id_is_echoed_or_generated(client: Client, alice: IssuedKey) -> None:
    mine = await client.get("/api/resources", headers={**bearer(alice), "X-Request-ID": "abc-1"})
    assert mine.headers["x-request-id"] == "abc-1"
    bad = await client.get("/api/resources", headers={**bearer(alice), "X-Request-ID": "a b"})
    assert bad.headers["x-request-id"] not in ("", "a b")


async def test_internal_error_body_is_only_error_and_request_id(
    client: Client, container: Container, alice: IssuedKey
) -> None:
    class Broken:
        async def __call__(self, *args: object) -> None:
            raise RuntimeError("secret detail")

    container.get_resource.override(Broken())
    try:
        response = await client.get("/api/resources/1", headers=bearer(alice))
    finally:
        container.get_resource.reset_override()
    assert response.status_code == 500
    assert response.json() == {
        "error": "Internal server error",
        "requestId": response.headers["x-request-id"],
    }


async def test_cors_allows_configured_origins_and_exposes_headers(
    settings: Any, open_container: Container
) -> None:
    from dataclasses import replace

    from entrypoints.container import build_container
    from entrypoints.http.app import create_asgi

    container = build_container(replace(settings, cors_origins=("https://app.example",)))
    key = await issue(open_container, "alice", ("read",), rate_limit=100)
    async with Client(app=create_asgi(container)) as client:  # type: ignore[arg-type]
        allowed = await client.get(
            "/api/resources", headers={**bearer(key), "Origin": "https://app.example"}
        )
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        exposed = allowed.headers["access-control-expose-headers"]
        for name in ("ETag", "Location", "X-Request-ID", "X-RateLimit-Remaining"):
            assert name in exposed
        other = await client.get(
            "/api/resources", headers={**bearer(key), "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers
        preflight = await client.options(
            "/api/resources",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "If-Match, Authorization",
            },
        )
        assert preflight.status_code == 204
        assert "PATCH" in preflight.headers["access-control-allow-methods"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "nul\u0000"},
        {"name": "x", "description": "a\u0000b"},
        {"name": "x", "metadata": {"k": "\u0000"}},
        {"name": "x", "metadata": {"\u0000": 1}},
    ],
)
async def test_text_postgres_cannot_store_is_400_not_500(
    client: Client, alice: IssuedKey, body: dict[str, Any]
) -> None:
    response = await client.post("/api/resources", json=body, headers=bearer(alice))
    assert response.status_code == 400


@pytest.mark.parametrize("query", ["category=%00", "search=a%00"])
async def test_nul_in_list_filters_is_400(client: Client, alice: IssuedKey, query: str) -> None:
    response = await client.get(f"/api/resources?{query}", headers=bearer(alice))
    assert response.status_code == 400
