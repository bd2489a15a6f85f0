"""POST /api/auth/register in its three modes and the key management endpoints."""

from __future__ import annotations

import re
from dataclasses import replace

from entrypoints.container import Container, build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.clients import Client
from tests.support.keys import bearer, issue

REGISTER = "/api/auth/register"


async def test_self_service_sign_up_returns_the_key_once(client: Client) -> None:
    response = await client.post(REGISTER, json={"name": "My App Key"})
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert re.fullmatch(r"rk_[0-9a-f]{64}", body["key"])
    assert body["prefix"] == body["key"][:11]
    assert body["permissions"] == ["read"]
    assert body["rateLimit"] == 100
    assert body["message"] == "Save this key — it will not be shown again."
    assert body["createdAt"].endswith("Z")
    assert set(body) == {
        "id", "key", "prefix", "name", "userId", "permissions", "rateLimit", "createdAt",
        "message", "expiresAt", "rateLimitPerMinute", "rateLimitPerDay", "credits",
    }  # fmt: skip
    assert (body["expiresAt"], body["rateLimitPerMinute"], body["rateLimitPerDay"]) == (None,) * 3
    assert body["credits"] is None
    listed = await client.get("/api/keys", headers={"Authorization": f"Bearer {body['key']}"})
    assert listed.status_code == 200
    assert "key" not in listed.json()["data"][0]
    assert body["key"] not in listed.text


async def test_sign_ups_get_distinct_users(client: Client) -> None:
    a = (await client.post(REGISTER, json={"name": "a"})).json()
    b = (await client.post(REGISTER, json={"name": "b"})).json()
    assert a["userId"] != b["userId"]


async def test_self_service_rules(client: Client) -> None:
    assert (
        await client.post(REGISTER, json={"name": "a", "permissions": ["admin"]})
    ).status_code == 403
    assert (await client.post(REGISTER, json={"name": "a", "userId": "x"})).status_code == 403
    assert (await client.post(REGISTER, json={"name": "a", "rateLimit": 9})).status_code == 403


async def test_invalid_bodies_are_400_with_details(client: Client) -> None:
    cases = [
        {"name": ""},
        {"name": "x" * 101},
        {"name": "a", "permissions": ["read", "superuser"]},
        {"name": "a", "permissions": "read"},
        {"permissions": ["read"]},
        {"name": "a", "extra": 1},
    ]
    for body in cases:
        response = await client.post(REGISTER, json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]
        assert response.json()["details"][0]["field"], body


async def test_malformed_json_is_400(client: Client) -> None:
    response = await client.post(
        REGISTER, content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "Malformed JSON body"


async def test_a_key_registers_a_subset_for_its_own_user(
    client: Client, container: Container
) -> None:
    caller = await issue(container, user="u1", permissions=("read", "write"))
    response = await client.post(
        REGISTER, json={"name": "ro", "permissions": ["read"]}, headers=bearer(caller)
    )
    assert response.status_code == 201
    assert response.json()["userId"] == "u1"
    superset = await client.post(
        REGISTER, json={"name": "x", "permissions": ["admin"]}, headers=bearer(caller)
    )
    assert superset.status_code == 403
    other_user = await client.post(
        REGISTER, json={"name": "x", "userId": "u2"}, headers=bearer(caller)
    )
    assert other_user.status_code == 403


async def test_an_invalid_key_on_register_is_401_not_a_sign_up(client: Client) -> None:
    response = await client.post(
        REGISTER, json={"name": "x"}, headers={"Authorization": "Bearer rk_nope"}
    )
    assert response.status_code == 401


async def test_admin_sets_user_and_rate_limit(client: Client, container: Container) -> None:
    admin = await issue(container, user="root", permissions=("admin",))
    response = await client.post(
        REGISTER,
        json={"name": "svc", "permissions": ["read", "write"], "userId": "u9", "rateLimit": 5000},
        headers=bearer(admin),
    )
    assert response.status_code == 201
    assert (response.json()["userId"], response.json()["rateLimit"]) == ("u9", 5000)


async def test_rate_limit_must_be_a_json_integer_not_a_string_or_float(
    client: Client, container: Container
) -> None:
    admin = bearer(await issue(container, user="root", permissions=("admin",)))
    for value in ["5000", "1e3", "null", 5000.0]:
        response = await client.post(
            REGISTER, json={"name": "svc", "userId": "u9", "rateLimit": value}, headers=admin
        )
        assert response.status_code == 400, (value, response.text)
        body = response.json()
        assert body["error"] == "Validation failed"
        [detail] = body["details"]
        assert detail["field"] == "rateLimit" and "got" in detail["message"], (value, detail)
    listed = await client.get("/api/keys", params={"userId": "u9"}, headers=admin)
    assert listed.json()["data"] == []


async def test_registration_can_be_switched_off(settings: Settings) -> None:
    app = create_asgi(build_container(replace(settings, registration_enabled=False)))
    async with Client(app=app) as client:  # type: ignore[arg-type]
        response = await client.post(REGISTER, json={"name": "x"})
    assert response.status_code == 403


async def test_sign_up_is_limited_per_ip(settings: Settings) -> None:
    app = create_asgi(build_container(replace(settings, registration_per_hour=3)))
    async with Client(app=app) as client:  # type: ignore[arg-type]
        statuses = [(await client.post(REGISTER, json={"name": "x"})).status_code for _ in range(5)]
        refused = await client.post(REGISTER, json={"name": "x"})
    assert statuses == [201, 201, 201, 429, 429]
    assert 1 <= int(refused.headers["retry-after"]) <= 3660
    assert refused.json()["error"].startswith("Rate limit exceeded. Limit: 3 requests/hour.")


async def test_list_revoke_rotate_flow(client: Client, container: Container) -> None:
    first = (
        await client.post(REGISTER, json={"name": "first", "permissions": ["read", "write"]})
    ).json()
    auth = {"Authorization": f"Bearer {first['key']}"}
    second = (await client.post(REGISTER, json={"name": "second"}, headers=auth)).json()

    listed = (await client.get("/api/keys", headers=auth)).json()
    assert [k["name"] for k in listed["data"]] == ["first", "second"]
    assert listed["pagination"]["total"] == 2
    item = listed["data"][0]
    assert set(item) == {
        "id", "name", "prefix", "userId", "permissions", "rateLimit", "isActive", "lastUsedAt",
        "createdAt", "expiresAt", "rateLimitPerMinute", "rateLimitPerDay", "credits",
    }  # fmt: skip

    assert (await client.delete(f"/api/keys/{second['id']}", headers=auth)).status_code == 204
    listed = (await client.get("/api/keys", headers=auth)).json()["data"]
    assert [k["isActive"] for k in listed] == [True, False]  # revoked ones included

    rotated = await client.post(f"/api/keys/{first['id']}/rotate", headers=auth)
    assert rotated.status_code == 201
    assert rotated.headers["cache-control"] == "no-store"
    new = rotated.json()
    assert (new["name"], new["permissions"], new["userId"]) == (
        "first",
        ["read", "write"],
        first["userId"],
    )
    assert (await client.get("/api/keys", headers=auth)).status_code == 401
    assert (
        await client.get("/api/keys", headers={"Authorization": f"Bearer {new['key']}"})
    ).status_code == 200


async def test_another_users_key_is_404_everywhere(client: Client, container: Container) -> None:
    mine = await issue(container, user="u1")
    theirs = await issue(container, user="u2")
    for method, path in (
        ("DELETE", f"/api/keys/{theirs.key.id}"),
        ("POST", f"/api/keys/{theirs.key.id}/rotate"),
        ("GET", f"/api/keys/{theirs.key.id}/usage"),
        ("DELETE", "/api/keys/99999"),
        ("DELETE", "/api/keys/99999999999"),
    ):
        response = await client.request(method, path, headers=bearer(mine))
        assert response.status_code == 404, path
        assert response.json()["error"] == "API key not found"
    admin = await issue(container, user="root", permissions=("admin",))
    response = await client.get(f"/api/keys/{theirs.key.id}/usage", headers=bearer(admin))
    assert response.status_code == 200


async def test_user_id_filter_is_admin_only(client: Client, container: Container) -> None:
    mine = await issue(container, user="u1")
    await issue(container, user="u2")
    assert (await client.get("/api/keys?userId=u2", headers=bearer(mine))).status_code == 403
    admin = await issue(container, user="root", permissions=("admin",))
    everyone = (await client.get("/api/keys", headers=bearer(admin))).json()
    assert everyone["pagination"]["total"] == 3
    only = (await client.get("/api/keys?userId=u2", headers=bearer(admin))).json()
    assert [k["userId"] for k in only["data"]] == ["u2"]


async def test_list_paging_parameters_are_validated(client: Client, container: Container) -> None:
    mine = await issue(container)
    for query in ("page=0", "limit=0", "page=abc", "limit=-5"):
        response = await client.get(f"/api/keys?{query}", headers=bearer(mine))
        assert response.status_code == 400, query
        assert query.split("=")[0] in response.text
    capped = (await client.get("/api/keys?limit=1000", headers=bearer(mine))).json()
    assert capped["pagination"]["limit"] == 100


async def test_keys_are_listed_by_cursor_like_resources(
    client: Client, container: Container
) -> None:
    keys = [await issue(container, user="u1", name=f"k{i}") for i in range(5)]
    await issue(container, user="u2")
    mine = bearer(keys[0])
    first = (await client.get("/api/keys?limit=2", headers=mine)).json()["pagination"]
    assert first["hasNext"] and first["nextCursor"]
    seen, cursor = [], first["nextCursor"]
    while cursor:
        response = await client.get(f"/api/keys?limit=2&cursor={cursor}", headers=mine)
        assert response.status_code == 200
        body = response.json()
        assert body["pagination"]["page"] is None and body["pagination"]["total"] == 5
        seen += [k["id"] for k in body["data"]]
        cursor = body["pagination"]["nextCursor"]
    assert seen == [k.key.id for k in keys[2:]]
    both = await client.get(f"/api/keys?page=2&cursor={first['nextCursor']}", headers=mine)
    assert both.status_code == 400 and "page" in both.text
    forged = await client.get("/api/keys?cursor=abc.def", headers=mine)
    assert forged.status_code == 400 and "cursor" in forged.text
    other = bearer(await issue(container, user="u2"))
    stolen = await client.get(f"/api/keys?cursor={first['nextCursor']}", headers=other)
    assert stolen.status_code == 400  # bound to u1's listing


async def test_v2_wraps_bodies_and_echoes_the_request_id(
    client: Client, container: Container
) -> None:
    mine = await issue(container)
    for path, headers in (
        ("/api/v2/keys", {}),
        ("/api/keys", {"Accept-Version": "2"}),
    ):
        response = await client.get(
            path, headers={**bearer(mine), **headers, "X-Request-ID": "req-1"}
        )
        body = response.json()
        assert response.headers["x-request-id"] == "req-1"
        assert body["meta"]["requestId"] == "req-1"
        assert body["meta"]["pagination"]["total"] == 1
        assert body["data"][0]["id"] == mine.key.id
    v1 = (await client.get("/api/v1/keys", headers=bearer(mine))).json()
    assert set(v1) == {"data", "pagination"}
