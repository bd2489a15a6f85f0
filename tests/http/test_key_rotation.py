"""POST /api/keys/{id}/rotate with a grace period, over HTTP on the real database."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue
from tests.support.waiting import eventually


def rotate(key_id: int) -> str:
    return f"/api/keys/{key_id}/rotate"


async def test_with_a_grace_period_both_keys_work_and_the_new_one_inherits_everything(
    client: Client, container: Container, db: str
) -> None:
    admin = await issue(container, "root", ("admin",))
    expires = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    created = await client.post(
        "/api/auth/register",
        headers=bearer(admin),
        json={
            "name": "billing",
            "userId": "alice",
            "permissions": ["read", "write"],
            "rateLimit": 50,
            "rateLimitPerMinute": 5,
            "rateLimitPerDay": 500,
            "expiresAt": expires.isoformat(),
        },
    )
    old = created.json()
    old_auth = {"Authorization": f"Bearer {old['key']}"}
    response = await client.post(
        rotate(old["id"]), headers=old_auth, json={"gracePeriodSeconds": 3600}
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    new = response.json()
    inherited = ("name", "userId", "permissions", "rateLimit", "rateLimitPerMinute",
                 "rateLimitPerDay", "expiresAt", "credits")  # fmt: skip
    assert {f: new[f] for f in inherited} == {f: old[f] for f in inherited}
    assert new["id"] != old["id"] and new["key"] != old["key"]
    new_auth = {"Authorization": f"Bearer {new['key']}"}
    assert (await client.get("/api/keys", headers=old_auth)).status_code == 200
    listed = {k["id"]: k for k in (await client.get("/api/keys", headers=new_auth)).json()["data"]}
    assert listed[old["id"]]["isActive"] is True
    grace_end = datetime.fromisoformat(listed[old["id"]]["expiresAt"])
    assert timedelta(minutes=59) < grace_end - datetime.now(UTC) <= timedelta(hours=1)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE api_keys SET expires_at = now() WHERE id = %s", (old["id"],))

    async def refused() -> bool:
        # A change made outside keygate reaches its key cache by NOTIFY, a moment later.
        expired = await client.get("/api/keys", headers=old_auth)
        return (expired.status_code, expired.json().get("error")) == (401, "API key expired")

    await eventually(refused, within=10)
    assert (await client.get("/api/keys", headers=new_auth)).status_code == 200


async def test_the_body_is_optional_and_no_grace_revokes_at_once(
    client: Client, container: Container
) -> None:
    for body in ({}, None, {"gracePeriodSeconds": 0}):
        old = await issue(container)
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        response = await client.post(rotate(old.key.id), headers=bearer(old), **kwargs)
        assert response.status_code == 201, response.text
        refused = await client.get("/api/keys", headers=bearer(old))
        assert (refused.status_code, refused.json()["error"]) == (401, "Invalid or revoked API key")


async def test_a_key_in_its_grace_period_cannot_be_rotated_again(
    client: Client, container: Container
) -> None:
    old = await issue(container)
    first = await client.post(
        rotate(old.key.id), headers=bearer(old), json={"gracePeriodSeconds": 60}
    )
    assert first.status_code == 201
    again = await client.post(
        rotate(old.key.id), headers=bearer(old), json={"gracePeriodSeconds": 60}
    )
    assert again.status_code == 409
    assert "grace period" in again.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"gracePeriodSeconds": -1},
        {"gracePeriodSeconds": 604801},
        {"gracePeriodSeconds": "60"},
        {"gracePeriodSeconds": 1.5},
        {"gracePeriodSeconds": None},
        {"gracePeriodSeconds": 10**30},
        {"grace": 60},
        [60],
    ],
)
async def test_a_bad_grace_period_is_a_400_and_changes_nothing(
    client: Client, container: Container, body: Any
) -> None:
    old = await issue(container)
    response = await client.post(rotate(old.key.id), headers=bearer(old), json=body)
    assert response.status_code == 400, response.text
    assert response.json()["details"]
    assert (await client.get("/api/keys", headers=bearer(old))).json()["pagination"]["total"] == 1


async def test_concurrent_rotations_of_one_key_make_exactly_one_new_key(
    client: Client, container: Container, db: str
) -> None:
    old = await issue(container)
    responses = await asyncio.gather(
        *(
            client.post(rotate(old.key.id), headers=bearer(old), json={"gracePeriodSeconds": 600})
            for _ in range(12)
        )
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 11}
    with psycopg.connect(db) as conn:
        rows = conn.execute("SELECT id, replaced_by FROM api_keys ORDER BY id").fetchall()
        rotated = conn.execute(
            "SELECT count(*) FROM audit_events WHERE action = 'key.rotated'"
        ).fetchone()
    (winner,) = [r.json() for r in responses if r.status_code == 201]
    assert rows == [(old.key.id, winner["id"]), (winner["id"], None)]
    assert rotated == (1,)
