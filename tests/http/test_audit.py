"""The audit log over HTTP: exactly what happened, to admins only, never a secret."""

from __future__ import annotations

from typing import Any

import psycopg

from domain.keys import IssuedKey, hash_key
from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue

AUDIT = "/api/audit"
HOOK = {"url": "https://hooks.example.com/audit", "eventTypes": ["resource.created"]}


def without_times(entry: dict[str, Any]) -> dict[str, Any]:
    assert entry["at"].endswith("Z")
    return {k: v for k, v in entry.items() if k not in ("id", "at")}


def issued_by_the_operator(key: IssuedKey, name: str, permissions: list[str]) -> dict[str, Any]:
    """The entry of a key tests.support.keys.issue made, as the CLI does."""
    return {
        "action": "key.issued",
        "actor": {"userId": "operator", "keyId": None, "via": "cli"},
        "target": {"type": "key", "id": key.key.id},
        "ip": None,
        "requestId": None,
        "changes": {
            "name": [None, name],
            "prefix": [None, key.key.prefix],
            "userId": [None, key.key.user_id],
            "permissions": [None, permissions],
            "rateLimit": [None, 100],
        },
    }


async def test_a_rotate_then_revoke_leaves_exactly_what_happened(
    client: Client, container: Container
) -> None:
    admin = await issue(container, "root", ("admin",))
    old = await issue(container, "alice", name="billing")
    rotated = await client.post(
        f"/api/keys/{old.key.id}/rotate",
        headers={**bearer(old), "X-Request-ID": "rotate-1"},
        json={"gracePeriodSeconds": 3600},
    )
    new = rotated.json()
    grace_end = next(
        k["expiresAt"]
        for k in (await client.get("/api/keys", headers=bearer(old))).json()["data"]
        if k["id"] == old.key.id
    )
    revoked = await client.delete(
        f"/api/keys/{new['id']}", headers={**bearer(admin), "X-Request-ID": "revoke-1"}
    )
    assert revoked.status_code == 204
    response = await client.get(AUDIT, headers=bearer(admin), params={"targetType": "key"})
    assert response.status_code == 200, response.text
    entries = response.json()["data"]
    assert [without_times(e) for e in entries] == [
        {
            "action": "key.revoked",
            "actor": {"userId": "root", "keyId": admin.key.id, "via": "api"},
            "target": {"type": "key", "id": new["id"]},
            "ip": "testclient",
            "requestId": "revoke-1",
            "changes": {"isActive": [True, False]},
        },
        {
            "action": "key.rotated",
            "actor": {"userId": "alice", "keyId": old.key.id, "via": "api"},
            "target": {"type": "key", "id": old.key.id},
            "ip": "testclient",
            "requestId": "rotate-1",
            "changes": {"replacedBy": [None, new["id"]], "expiresAt": [None, grace_end]},
        },
        issued_by_the_operator(old, "billing", ["read", "write"]),
        issued_by_the_operator(admin, "test key", ["admin"]),
    ]
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True)


async def test_only_an_admin_reads_the_audit_log(client: Client, container: Container) -> None:
    writer = await issue(container, permissions=("read", "write"))
    response = await client.get(AUDIT, headers=bearer(writer))
    assert response.status_code == 403
    assert (await client.get(AUDIT)).status_code == 401


async def test_filters_and_cursor_pages_of_the_audit_log(
    client: Client, container: Container
) -> None:
    admin = await issue(container, "root", ("admin",))
    keys = [await issue(container, "alice") for _ in range(4)]
    for key in keys:
        await client.patch(f"/api/keys/{key.key.id}", headers=bearer(key), json={"name": "x"})
    updated = await client.get(
        AUDIT, headers=bearer(admin), params={"action": "key.updated", "limit": 3}
    )
    body = updated.json()
    assert [e["target"]["id"] for e in body["data"]] == [k.key.id for k in reversed(keys)][:3]
    assert body["pagination"]["total"] == 4 and body["pagination"]["hasNext"] is True
    rest = await client.get(
        AUDIT,
        headers=bearer(admin),
        params={"action": "key.updated", "limit": 3, "cursor": body["pagination"]["nextCursor"]},
    )
    assert [e["target"]["id"] for e in rest.json()["data"]] == [keys[0].key.id]
    assert rest.json()["pagination"]["page"] is None
    one = await client.get(AUDIT, headers=bearer(admin), params={"targetId": keys[1].key.id})
    assert [e["action"] for e in one.json()["data"]] == ["key.updated", "key.issued"]
    mismatched = await client.get(
        AUDIT, headers=bearer(admin), params={"cursor": body["pagination"]["nextCursor"]}
    )
    assert mismatched.status_code == 400
    for bad in (
        {"action": "key.deleted"},
        {"targetType": "user"},
        {"targetId": "x"},
        {"targetId": 0},
    ):
        response = await client.get(AUDIT, headers=bearer(admin), params=bad)
        assert response.status_code == 400, (bad, response.text)


async def test_webhook_subscriptions_are_audited(client: Client, container: Container) -> None:
    admin = await issue(container, "root", ("admin",))
    alice = await issue(container, "alice")
    created = (await client.post("/api/webhooks", headers=bearer(alice), json=HOOK)).json()
    assert (
        await client.delete(f"/api/webhooks/{created['id']}", headers=bearer(alice))
    ).status_code == 204
    entries = (
        await client.get(AUDIT, headers=bearer(admin), params={"targetType": "webhook"})
    ).json()["data"]
    settings = {"url": HOOK["url"], "eventTypes": HOOK["eventTypes"], "userId": "alice"}
    target = {"type": "webhook", "id": created["id"]}
    assert [(e["action"], e["target"], e["changes"]) for e in entries] == [
        ("webhook.deleted", target, {f: [v, None] for f, v in settings.items()}),
        ("webhook.created", target, {f: [None, v] for f, v in settings.items()}),
    ]


async def test_no_raw_key_hash_or_secret_ever_reaches_the_audit_log(
    client: Client, container: Container, db: str
) -> None:
    admin = await issue(container, "root", ("admin",))
    secrets: list[str] = [admin.raw_key]
    made = await client.post("/api/auth/register", json={"name": "self"})
    secrets.append(made.json()["key"])
    rotated = await client.post(f"/api/keys/{made.json()['id']}/rotate", headers=bearer(admin))
    secrets.append(rotated.json()["key"])
    await client.patch(
        f"/api/keys/{rotated.json()['id']}", headers=bearer(admin), json={"rateLimit": 9}
    )
    hook = await client.post("/api/webhooks", headers=bearer(admin), json=HOOK)
    secrets.append(hook.json()["secret"])
    await client.delete(f"/api/webhooks/{hook.json()['id']}", headers=bearer(admin))
    secrets += [hash_key(s) for s in secrets if s.startswith("rk_")]
    with psycopg.connect(db) as conn:
        rows = conn.execute("SELECT audit_events::text FROM audit_events").fetchall()
    assert len(rows) == 6
    dumped = "\n".join(r[0] for r in rows)
    for secret in secrets:
        assert secret not in dumped
        assert secret[6:30] not in dumped  # nor a recognisable part of one
    listed = (await client.get(AUDIT, headers=bearer(admin), params={"limit": 100})).text
    assert not any(secret in listed for secret in secrets)
