"""Usage credits over HTTP: set by an admin at register, spent one per admitted request,
topped up by PATCH, shown in key items (API.md, Key lifecycle and Quotas)."""

from __future__ import annotations

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue

REGISTER = "/api/auth/register"


async def test_an_admin_meters_a_key_and_it_spends_one_credit_per_admitted_request(
    client: Client, container: Container
) -> None:
    admin = await issue(container, user="root", permissions=("admin",))
    body = {"name": "metered", "userId": "alice", "credits": {"remaining": 2}}
    made = await client.post(REGISTER, json=body, headers=bearer(admin))
    assert made.status_code == 201, made.text
    assert made.json()["credits"] == {"remaining": 2, "refill": None}
    key = {"Authorization": f"Bearer {made.json()['key']}"}
    spent = [await client.get("/api/keys", headers=key) for _ in range(3)]
    assert [r.status_code for r in spent] == [200, 200, 429]
    assert [r.headers["x-credits-remaining"] for r in spent] == ["1", "0", "0"]
    assert spent[2].json() == {"error": "Usage credits exhausted"}
    assert "retry-after" not in spent[2].headers
    # The item shows what is left; the hour counted the admitted requests only.
    listed = await client.get("/api/keys?userId=alice", headers=bearer(admin))
    assert listed.json()["data"][0]["credits"] == {"remaining": 0, "refill": None}
    quota = await client.get(f"/api/keys/{made.json()['id']}/quota", headers=bearer(admin))
    assert quota.json()["windows"][0]["remaining"] == 98
    # A top-up sets the count, as often as it is sent.
    key_id = made.json()["id"]
    for _ in range(2):
        topped = await client.patch(
            f"/api/keys/{key_id}", json={"credits": {"remaining": 1}}, headers=bearer(admin)
        )
        assert topped.status_code == 200, topped.text
        assert topped.json()["credits"] == {"remaining": 1, "refill": None}
    assert (await client.get("/api/keys", headers=key)).status_code == 200
    assert (await client.get("/api/keys", headers=key)).status_code == 429
    audit = await client.get(f"/api/audit?targetId={key_id}", headers=bearer(admin))
    changes = [e["changes"] for e in audit.json()["data"] if e["action"] == "key.updated"]
    assert changes[0]["credits"][1] == {"remaining": 1, "refill": None}


async def test_a_refill_says_when_and_only_an_admin_sets_credits(
    client: Client, container: Container
) -> None:
    admin = await issue(container, user="root", permissions=("admin",))
    alice = await issue(container, user="alice")
    refill = {"interval": "daily", "amount": 5}
    body = {"name": "m", "credits": {"remaining": 0, "refill": refill}}
    refused = await client.post(REGISTER, json=body, headers=bearer(alice))
    assert refused.status_code == 403
    made = await client.post(REGISTER, json={**body, "userId": "bob"}, headers=bearer(admin))
    assert made.json()["credits"] == {"remaining": 0, "refill": refill}
    out = await client.get("/api/keys", headers={"Authorization": f"Bearer {made.json()['key']}"})
    assert out.status_code == 429 and out.json() == {"error": "Usage credits exhausted"}
    assert 1 <= int(out.headers["retry-after"]) <= 86400  # until 00:00 UTC
    patch = await client.patch(
        f"/api/keys/{alice.key.id}", json={"credits": {"remaining": 9}}, headers=bearer(alice)
    )
    assert patch.status_code == 403
    weekly = {"interval": "weekly", "amount": 1}
    for bad in ({"remaining": -1}, {"refill": None}, {"remaining": 1, "refill": weekly}):
        answer = await client.post(
            REGISTER, json={"name": "m", "credits": bad}, headers=bearer(admin)
        )
        assert answer.status_code == 400 and "error" in answer.json()
    removed = await client.patch(
        f"/api/keys/{made.json()['id']}", json={"credits": None}, headers=bearer(admin)
    )
    assert removed.status_code == 200 and removed.json()["credits"] is None
