"""Path ids and paging numbers have one spelling; bad ones are a 400 or 404 naming the
problem, never an alias and never 'a value cannot be stored' (issue 14 #12-#14)."""

from __future__ import annotations

import pytest

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue

HUGE = str(10**30)
LISTS = ("/api/resources", "/api/keys", "/api/webhooks", "/api/webhooks/1/deliveries")


async def _setup(client: Client, container: Container) -> tuple[dict[str, str], int, int, int]:
    """An admin's header, and one resource, key and webhook id (each 3)."""
    admin = bearer(await issue(container, "root", ("admin",)))
    alice = await issue(container, "alice", ("read", "write"))
    await issue(container, "alice")
    for i in range(3):
        made = await client.post("/api/resources", json={"name": f"r{i}"}, headers=bearer(alice))
        hook = await client.post(
            "/api/webhooks",
            json={"url": f"https://hooks.example/{i}", "eventTypes": ["resource.created"]},
            headers=bearer(alice),
        )
    return admin, made.json()["id"], 3, hook.json()["id"]


ALIASES = ("3_0", "%D9%A3", "+3", "03", "3.0", "%203", "3%20", "0x3", "%EF%BC%93", "3e0")


@pytest.mark.parametrize("alias", ALIASES)
async def test_a_path_id_has_one_spelling(client: Client, container: Container, alias: str) -> None:
    admin, resource, key, hook = await _setup(client, container)
    assert (resource, key, hook) == (3, 3, 3)
    for method, path in (
        ("GET", f"/api/resources/{alias}"),
        ("PUT", f"/api/resources/{alias}"),
        ("PATCH", f"/api/resources/{alias}"),
        ("DELETE", f"/api/resources/{alias}"),
        ("GET", f"/api/keys/{alias}/usage"),
        ("POST", f"/api/keys/{alias}/rotate"),
        ("DELETE", f"/api/keys/{alias}"),
        ("GET", f"/api/webhooks/{alias}/deliveries"),
        ("DELETE", f"/api/webhooks/{alias}"),
    ):
        body = {"name": "x"} if method in ("PUT", "PATCH") else None
        response = await client.request(method, path, json=body, headers=admin)
        assert response.status_code in (400, 404), (method, path, response.text)
        assert response.json()["error"]
    # Nothing was changed by any alias.
    assert (await client.get("/api/resources/3", headers=admin)).json()["name"] == "r2"
    keys = (await client.get("/api/keys", headers=admin)).json()["data"]
    assert all(k["isActive"] for k in keys)
    assert (await client.get("/api/webhooks", headers=admin)).json()["pagination"]["total"] == 3


async def test_the_canonical_ids_still_work(client: Client, container: Container) -> None:
    admin, resource, key, hook = await _setup(client, container)
    assert (await client.get(f"/api/resources/{resource}", headers=admin)).status_code == 200
    assert (await client.get(f"/api/keys/{key}/usage", headers=admin)).status_code == 200
    deliveries = await client.get(f"/api/webhooks/{hook}/deliveries", headers=admin)
    assert deliveries.status_code == 200


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=1e3", "limit"), ("page=1.0", "page"), ("limit=+5", "limit"), ("page=%D9%A1", "page"),
     ("limit=5.0", "limit"), ("page=1_0", "page"), ("page=" + "9" * 5000, "page")],
)  # fmt: skip
async def test_paging_numbers_are_strict_integers(
    client: Client, container: Container, path: str, query: str, field: str
) -> None:
    admin, *_ = await _setup(client, container)
    response = await client.get(f"{path}?{query}", headers=admin)
    assert response.status_code == 400, response.text
    [detail] = response.json()["details"]
    assert detail["field"] == field
    assert detail["message"].startswith("must be an integer >= 1")


@pytest.mark.parametrize("path", LISTS)
async def test_a_page_far_past_the_end_is_an_empty_page_on_every_list(
    client: Client, container: Container, path: str
) -> None:
    admin, *_ = await _setup(client, container)
    response = await client.get(f"{path}?page={HUGE}", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == []
    assert body["pagination"]["hasNext"] is False


async def test_a_user_id_filter_that_cannot_exist_is_a_400_naming_it(
    client: Client, container: Container
) -> None:
    admin, *_ = await _setup(client, container)
    for value in ("%00", "a%00b", "u" * 201):
        response = await client.get(f"/api/keys?userId={value}", headers=admin)
        assert response.status_code == 400, response.text
        [detail] = response.json()["details"]
        assert detail["field"] == "userId"
        assert "1-200 characters, without NUL" in detail["message"]


async def test_plain_paging_still_works(client: Client, container: Container) -> None:
    admin, *_ = await _setup(client, container)
    for path in LISTS:
        response = await client.get(f"{path}?page=1&limit=2", headers=admin)
        assert response.status_code == 200, (path, response.text)
        assert response.json()["pagination"]["limit"] == 2
