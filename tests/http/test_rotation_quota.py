"""A rotation changes the secret, never what is left: the successor counts on its
predecessor's windows and credits, and during a grace period both keys spend one quota
(otherwise rotating would be a way round a rate limit, and a grace period a way to spend
the credits twice)."""

from __future__ import annotations

import asyncio

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue

REGISTER = "/api/auth/register"


def auth(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


async def test_the_successor_goes_on_with_the_windows_of_the_key_it_replaces(
    client: Client, container: Container
) -> None:
    old = await issue(container, user="alice", rate_limit=4)
    for _ in range(3):
        assert (await client.get("/api/keys", headers=bearer(old))).status_code == 200
    rotated = await client.post(f"/api/keys/{old.key.id}/rotate", headers=bearer(old))
    assert rotated.status_code == 201, rotated.text  # the fourth request of the hour
    new = auth(rotated.json()["key"])
    refused = await client.get("/api/keys", headers=new)
    assert refused.status_code == 429
    assert refused.headers["x-ratelimit-limit"] == "4"
    look = await client.get(f"/api/keys/{rotated.json()['id']}/quota", headers=new)
    assert look.status_code == 429  # the look is counted on the caller's key too


async def test_during_a_grace_period_both_keys_spend_one_set_of_credits(
    client: Client, container: Container
) -> None:
    admin = await issue(container, user="root", permissions=("admin",))
    body = {"name": "metered", "userId": "alice", "credits": {"remaining": 5}}
    made = await client.post(REGISTER, json=body, headers=bearer(admin))
    old = auth(made.json()["key"])
    for _ in range(2):
        assert (await client.get("/api/keys", headers=old)).status_code == 200
    rotated = await client.post(
        f"/api/keys/{made.json()['id']}/rotate",
        json={"gracePeriodSeconds": 600},
        headers=bearer(admin),
    )
    assert rotated.status_code == 201, rotated.text
    assert rotated.json()["credits"] == {"remaining": 3, "refill": None}  # what is left
    new = auth(rotated.json()["key"])
    answers = await asyncio.gather(
        *(client.get("/api/keys", headers=old if i % 2 else new) for i in range(12))
    )
    assert sorted(r.status_code for r in answers) == [200] * 3 + [429] * 9
    for key_id in (made.json()["id"], rotated.json()["id"]):
        look = await client.get(f"/api/keys/{key_id}/quota", headers=bearer(admin))
        assert look.json()["credits"]["remaining"] == 0
