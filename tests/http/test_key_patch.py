"""PATCH /api/keys/{id}: who may change what, bad bodies, and the change taking effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def key_url(key_id: int) -> str:
    return f"/api/keys/{key_id}"


async def test_the_owner_renames_a_key_and_sets_then_shortens_its_expiry(
    client: Client, container: Container
) -> None:
    owner = await issue(container)
    sibling = await issue(container, name="sibling")
    soon = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    response = await client.patch(
        key_url(sibling.key.id),
        headers=bearer(owner),
        json={"name": "renamed", "expiresAt": iso(soon)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["expiresAt"], body["id"]) == ("renamed", iso(soon), sibling.key.id)
    assert "key" not in body
    sooner = iso(soon - timedelta(days=1))
    shortened = await client.patch(
        key_url(sibling.key.id), headers=bearer(owner), json={"expiresAt": sooner}
    )
    assert (shortened.status_code, shortened.json()["expiresAt"]) == (200, sooner)
    listed = (await client.get("/api/keys", headers=bearer(owner))).json()["data"]
    assert [(k["name"], k["expiresAt"]) for k in listed] == [
        ("test key", None),
        ("renamed", sooner),
    ]


async def test_the_owner_may_not_lengthen_or_remove_an_expiry_nor_touch_limits(
    client: Client, container: Container
) -> None:
    owner = await issue(container, expires_at=datetime.now(UTC) + timedelta(days=1))
    later = iso(datetime.now(UTC) + timedelta(days=30))
    for body in (
        {"expiresAt": later},
        {"expiresAt": None},
        {"rateLimit": 5},
        {"rateLimitPerMinute": None},
        {"rateLimitPerDay": 1000, "name": "x"},
    ):
        response = await client.patch(key_url(owner.key.id), headers=bearer(owner), json=body)
        assert response.status_code == 403, (body, response.text)
    item = (await client.get("/api/keys", headers=bearer(owner))).json()["data"][0]
    assert item["name"] == "test key" and item["rateLimit"] == 100


async def test_an_admin_changes_limits_and_the_next_request_sees_them(
    client: Client, container: Container
) -> None:
    admin = await issue(container, "root", ("admin",))
    key = await issue(container)
    before = await client.get("/api/keys", headers=bearer(key))
    assert before.headers["x-ratelimit-limit"] == "100"
    body = {"rateLimit": 7, "rateLimitPerMinute": 3, "rateLimitPerDay": 70}
    response = await client.patch(key_url(key.key.id), headers=bearer(admin), json=body)
    assert response.status_code == 200, response.text
    assert {f: response.json()[f] for f in body} == body
    after = await client.get("/api/keys", headers=bearer(key))
    # X-RateLimit-* name the window with the fewest left: the new minute (API.md, Quotas).
    assert after.headers["x-ratelimit-limit"] == "3"
    assert after.headers["ratelimit-policy"] == (
        '"minute";q=3;w=60, "hourly";q=7;w=3600, "daily";q=70;w=86400'
    )
    cleared = await client.patch(
        key_url(key.key.id), headers=bearer(admin), json={"rateLimitPerDay": None}
    )
    assert cleared.json()["rateLimitPerDay"] is None and cleared.json()["rateLimitPerMinute"] == 3


async def test_another_users_key_is_a_404_whatever_the_body(
    client: Client, container: Container
) -> None:
    mine = await issue(container)
    theirs = await issue(container, "bob")
    for body in ({"name": "mine now"}, {"rateLimit": 1}, {"nope": 1}):
        response = await client.patch(key_url(theirs.key.id), headers=bearer(mine), json=body)
        assert response.status_code in (400, 404), response.text
        if "nope" not in body:
            assert response.status_code == 404
    assert (
        await client.patch(key_url(2**31 - 1), headers=bearer(mine), json={})
    ).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"rateLimit": "5"}, "rateLimit"),
        ({"rateLimit": None}, "rateLimit"),
        ({"rateLimit": 0}, "rateLimit"),
        ({"rateLimit": 2**31}, "rateLimit"),
        ({"rateLimitPerMinute": True}, "rateLimitPerMinute"),
        ({"rateLimitPerDay": 1.5}, "rateLimitPerDay"),
        ({"expiresAt": "2027-01-01T00:00:00"}, "expiresAt"),
        ({"expiresAt": "2020-01-01T00:00:00Z"}, "expiresAt"),
        ({"expiresAt": 12}, "expiresAt"),
        ({"credits": {"remaining": -5}}, "credits.remaining"),
        ({"isActive": False}, "isActive"),
        ({"userId": "bob"}, "userId"),
        ([], "body"),
        ("name", "body"),
    ],
)
async def test_a_bad_patch_is_a_400_naming_the_field(
    client: Client, container: Container, body: Any, field: str
) -> None:
    admin = await issue(container, "root", ("admin",))
    response = await client.patch(key_url(admin.key.id), headers=bearer(admin), json=body)
    assert response.status_code == 400, response.text
    assert field in [d["field"] for d in response.json()["details"]]


async def test_an_empty_patch_changes_nothing(client: Client, container: Container) -> None:
    key = await issue(container)
    response = await client.patch(key_url(key.key.id), headers=bearer(key), json={})
    assert response.status_code == 200
    assert response.json()["name"] == "test key"
