"""A key issued with a Bearer key never gets more than its issuer's limits (issue 14 #5)."""

from __future__ import annotations

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue

REGISTER = "/api/auth/register"


async def test_chained_keys_keep_the_issuers_rate_limit(
    client: Client, container: Container
) -> None:
    parent = await issue(container, "alice", ("read", "write"), rate_limit=20)
    child = await client.post(REGISTER, json={"name": "child"}, headers=bearer(parent))
    assert child.status_code == 201, child.text
    assert child.json()["rateLimit"] == 20
    grandchild = await client.post(
        REGISTER,
        json={"name": "grandchild"},
        headers={"Authorization": f"Bearer {child.json()['key']}"},
    )
    assert grandchild.json()["rateLimit"] == 20
    listed = await client.get("/api/keys", headers=bearer(parent))
    assert {k["rateLimit"] for k in listed.json()["data"]} == {20}


async def test_a_key_above_the_default_still_issues_default_keys_and_admins_set_any(
    client: Client, container: Container
) -> None:
    generous = await issue(container, "bob", ("read",), rate_limit=5000)
    child = await client.post(REGISTER, json={"name": "c"}, headers=bearer(generous))
    assert child.json()["rateLimit"] == 100
    admin = await issue(container, "root", ("admin",), rate_limit=10)
    chosen = await client.post(
        REGISTER, json={"name": "svc", "userId": "u9", "rateLimit": 5000}, headers=bearer(admin)
    )
    assert chosen.json()["rateLimit"] == 5000
