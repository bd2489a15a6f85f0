"""POST/GET /api/webhooks, DELETE /api/webhooks/{id}, GET /api/webhooks/{id}/deliveries."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace

import pytest

from entrypoints.container import Container, build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.clients import Client, on_app_loop
from tests.support.keys import bearer, issue
from tests.support.receiver import running_receiver
from tests.support.signatures import verify
from tests.support.waiting import eventually
from tests.support.webhooks import record, rows

HOOKS = "/api/webhooks"
GOOD = {"url": "https://hooks.example.com/keygate", "eventTypes": ["resource.created"]}


async def test_subscribe_returns_the_secret_once(client: Client, container: Container) -> None:
    alice = bearer(await issue(container, "alice"))
    response = await client.post(HOOKS, json=GOOD, headers=alice)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["url"] == GOOD["url"] and body["eventTypes"] == ["resource.created"]
    assert body["userId"] == "alice" and body["isActive"] is True
    assert body["createdAt"].endswith("Z")
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"][6:])) >= 24

    listed = await client.get(HOOKS, headers=alice)
    assert listed.status_code == 200
    assert [w["id"] for w in listed.json()["data"]] == [body["id"]]
    assert listed.json()["pagination"]["total"] == 1
    assert "secret" not in listed.json()["data"][0] and body["secret"] not in listed.text


async def test_every_webhook_endpoint_needs_write(client: Client, container: Container) -> None:
    reader = bearer(await issue(container, "alice", permissions=("read",)))
    for method, path in [
        ("POST", HOOKS), ("GET", HOOKS), ("DELETE", f"{HOOKS}/1"), ("GET", f"{HOOKS}/1/deliveries")
    ]:  # fmt: skip
        response = await client.request(
            method, path, headers=reader, json=GOOD if method == "POST" else None
        )
        assert response.status_code == 403, (method, path)
        assert response.json()["error"] == "This key lacks the 'write' permission"
    assert (await client.get(HOOKS)).status_code == 401


async def test_users_see_and_delete_only_their_own(client: Client, container: Container) -> None:
    alice = bearer(await issue(container, "alice"))
    bob = bearer(await issue(container, "bob"))
    admin = bearer(await issue(container, "root", permissions=("read", "write", "admin")))
    alices = (await client.post(HOOKS, json=GOOD, headers=alice)).json()["id"]
    bobs = (await client.post(HOOKS, json=GOOD, headers=bob)).json()["id"]

    assert [w["id"] for w in (await client.get(HOOKS, headers=bob)).json()["data"]] == [bobs]
    everyone = (await client.get(HOOKS, headers=admin)).json()["data"]
    assert [w["id"] for w in everyone] == [alices, bobs]

    assert (await client.get(f"{HOOKS}/{alices}/deliveries", headers=bob)).status_code == 404
    assert (await client.delete(f"{HOOKS}/{alices}", headers=bob)).status_code == 404
    assert (await client.delete(f"{HOOKS}/999999", headers=bob)).status_code == 404
    assert (await client.delete(f"{HOOKS}/0", headers=bob)).status_code == 404
    assert (await client.get(f"{HOOKS}/{alices}/deliveries", headers=admin)).status_code == 200

    assert (await client.delete(f"{HOOKS}/{alices}", headers=alice)).status_code == 204
    assert (await client.get(HOOKS, headers=alice)).json()["data"] == []
    assert (await client.delete(f"{HOOKS}/{alices}", headers=alice)).status_code == 404
    assert (await client.delete(f"{HOOKS}/{bobs}", headers=admin)).status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x", "eventTypes": ["resource.created"]}, "url"),
        ({"url": "http://127.0.0.1:8080/x", "eventTypes": ["resource.created"]}, "url"),
        ({"url": "http://169.254.169.254/", "eventTypes": ["resource.created"]}, "url"),
        ({"url": "http://localhost/x", "eventTypes": ["resource.created"]}, "url"),
        ({"url": "https://e.com/" + "a" * 2048, "eventTypes": ["resource.created"]}, "url"),
        ({"url": "https://example.com/x", "eventTypes": []}, "eventTypes"),
        ({"url": "https://example.com/x", "eventTypes": ["resource.exploded"]}, "eventTypes"),
        ({"url": "https://example.com/x"}, "eventTypes"),
        ({"eventTypes": ["resource.created"]}, "url"),
        ({**GOOD, "secret": "mine"}, "secret"),
    ],
)
async def test_invalid_subscriptions_are_400_with_details(
    client: Client, container: Container, body: dict[str, object], field: str
) -> None:
    response = await client.post(HOOKS, json=body, headers=bearer(await issue(container)))
    assert response.status_code == 400, response.text
    assert response.json()["error"]
    [detail] = response.json()["details"]
    # Body-shape errors are reported against `data` with the field named in the message.
    assert field in detail["field"] or f"`{field}`" in detail["message"], detail


MALFORMED_URLS = [
    "https://hooks.example.com/my hook",
    "https://hooks example.com/",
    "https://hooks.example.com/\x01",
    "https://hooks.example.com/\u00e9",
    "https:///hook",
    "https://user:pw@hooks.example.com/",
    "https://" + "a" * 64 + ".example.com/",
    "https://2130706433/",
]


async def test_malformed_urls_are_400_naming_url_and_store_nothing(
    client: Client, container: Container
) -> None:
    alice = bearer(await issue(container, "alice"))
    for url in MALFORMED_URLS:
        response = await client.post(HOOKS, json={**GOOD, "url": url}, headers=alice)
        assert response.status_code == 400, (url, response.text)
        body = response.json()
        assert body["error"] == "Invalid webhook", body
        [detail] = body["details"]
        assert detail["field"] == "url" and detail["message"], (url, detail)
    assert (await client.get(HOOKS, headers=alice)).json()["data"] == []


@pytest.fixture
async def loopback_client(settings: Settings) -> AsyncIterator[tuple[Client, Container]]:
    allowed = replace(
        settings,
        webhook_allow_private=(ipaddress.ip_network("127.0.0.0/8"),),
        webhook_dispatch_interval=0.05,
    )
    container = build_container(allowed)
    async with Client(app=create_asgi(container), raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        yield c, container


async def test_deliveries_are_listed_newest_first(
    loopback_client: tuple[Client, Container],
) -> None:
    client, container = loopback_client
    alice = bearer(await on_app_loop(client, issue, container, "alice"))
    body = {"url": "http://127.0.0.1:9/hook", "eventTypes": ["resource.created"]}
    created = await client.post(HOOKS, json=body, headers=alice)
    assert created.status_code == 201, created.text
    webhook_id = created.json()["id"]
    for i in (1, 2):
        await on_app_loop(client, record, container, "resource.created", {"id": i})
    response = await client.get(f"{HOOKS}/{webhook_id}/deliveries?limit=1", headers=alice)
    assert response.status_code == 200
    page = response.json()
    assert page["pagination"] == {
        "page": 1, "limit": 1, "total": 2, "totalPages": 2, "hasNext": True, "nextCursor": None,
        "totalIsEstimate": False,
    }  # fmt: skip
    [delivery] = page["data"]
    assert delivery["webhookId"] == webhook_id and delivery["eventType"] == "resource.created"
    assert delivery["messageId"].startswith("msg_")
    assert delivery["status"] in {"pending", "failed"}
    assert set(delivery) == {
        "id", "webhookId", "eventId", "eventType", "messageId", "status", "attempts",
        "nextAttemptAt", "lastStatusCode", "lastError", "createdAt",
    }  # fmt: skip


async def test_the_server_dispatches_with_the_secret_it_handed_out(
    loopback_client: tuple[Client, Container],
) -> None:
    client, container = loopback_client
    alice = bearer(await on_app_loop(client, issue, container, "alice"))
    async with running_receiver() as receiver:
        body = {"url": receiver.url, "eventTypes": ["resource.deleted"]}
        created = (await client.post(HOOKS, json=body, headers=alice)).json()
        await on_app_loop(client, record, container, "resource.deleted", {"id": 5, "name": "gone"})
        for _ in range(100):
            if receiver.receipts:
                break
            await asyncio.sleep(0.05)
    [receipt] = receiver.receipts
    h = receipt.headers
    assert verify(
        created["secret"], h["webhook-id"], h["webhook-timestamp"], receipt.body,
        h["webhook-signature"],
    )  # fmt: skip

    # The receiver has the POST before the dispatcher records its answer.
    async def settled() -> list[dict[str, object]]:
        response = await client.get(f"{HOOKS}/{created['id']}/deliveries", headers=alice)
        return response.json()["data"]  # type: ignore[no-any-return]

    await eventually(lambda: _not_pending(settled()), within=10)
    [delivery] = await settled()
    assert delivery["status"] == "succeeded" and delivery["lastStatusCode"] == 200
    assert delivery["messageId"] == h["webhook-id"] and delivery["nextAttemptAt"] is None


async def test_resource_changes_are_delivered_once_each_and_failed_changes_not_at_all(
    loopback_client: tuple[Client, Container],
) -> None:
    client, container = loopback_client
    alice = bearer(await on_app_loop(client, issue, container, "alice"))
    async with running_receiver() as receiver:
        events = ["resource.created", "resource.updated", "resource.deleted"]
        hook = {"url": receiver.url, "eventTypes": events}
        secret = (await client.post(HOOKS, json=hook, headers=alice)).json()["secret"]

        created = await client.post("/api/resources", json={"name": "a"}, headers=alice)
        rid, etag = created.json()["id"], created.headers["etag"]
        patched = await client.patch(
            f"/api/resources/{rid}", json={"category": "c"}, headers={**alice, "If-Match": etag}
        )
        assert patched.status_code == 200
        stale = await client.delete(f"/api/resources/{rid}", headers={**alice, "If-Match": etag})
        assert stale.status_code == 412  # rolled back: no event
        assert (await client.delete(f"/api/resources/{rid}", headers=alice)).status_code == 204

        for _ in range(200):
            if len(receiver.receipts) >= 3:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # room for a wrong extra delivery to show up

    # Deliveries are not ordered (dispatch is concurrent); each event comes exactly once.
    bodies = {b["type"]: b for b in (json.loads(r.body) for r in receiver.receipts)}
    assert len(receiver.receipts) == 3 and sorted(bodies) == sorted(events)
    assert {b["data"]["id"] for b in bodies.values()} == {rid}
    assert bodies["resource.created"]["data"]["category"] is None
    assert bodies["resource.updated"]["data"]["category"] == "c"
    assert bodies["resource.deleted"]["data"]["category"] == "c"
    assert bodies["resource.created"]["data"]["createdBy"] == "alice"
    assert bodies["resource.created"]["data"]["createdAt"].endswith("Z")
    for receipt in receiver.receipts:
        h = receipt.headers
        assert verify(
            secret, h["webhook-id"], h["webhook-timestamp"], receipt.body, h["webhook-signature"]
        )


async def test_every_kind_of_change_queues_the_resource_exactly_as_the_api_returned_it(
    loopback_client: tuple[Client, Container], db: str
) -> None:
    client, container = loopback_client
    # Creates, replaces and deletes without If-Match are single statements; the rest
    # run in a unit of work. The events of both come from the database's triggers.
    alice = bearer(await on_app_loop(client, issue, container, "alice"))
    hook = {"url": "http://127.0.0.1:9/hook", "eventTypes": ["resource.created",
            "resource.updated", "resource.deleted"]}  # fmt: skip
    assert (await client.post(HOOKS, json=hook, headers=alice)).status_code == 201
    url = "/api/resources"
    body = {"name": "Straße ✓", "description": "d", "category": "c", "metadata": {"b": [1]}}
    created = await client.post(url, json=body, headers=alice)
    again = await client.post(url, json=body, headers={**alice, "Idempotency-Key": "k1"})
    rid = created.json()["id"]
    replaced = await client.put(f"{url}/{rid}", json={**body, "name": "r"}, headers=alice)
    patched = await client.patch(
        f"{url}/{rid}", json={"metadata": None},
        headers={**alice, "If-Match": replaced.headers["etag"]},
    )  # fmt: skip
    guarded = await client.put(
        f"{url}/{rid}", json=body, headers={**alice, "If-Match": patched.headers["etag"]}
    )
    last = (await client.get(f"{url}/{again.json()['id']}", headers=alice)).json()
    assert (await client.delete(f"{url}/{again.json()['id']}", headers=alice)).status_code == 204
    answers = [created, again, replaced, patched, guarded]
    assert [a.status_code for a in answers] == [201, 201, 200, 200, 200]

    events = rows(db, "SELECT event_type, data::text FROM webhook_events ORDER BY id")
    expected = ["resource.created"] * 2 + ["resource.updated"] * 3 + ["resource.deleted"]
    assert [t for t, _ in events] == expected
    assert [json.loads(d) for _, d in events] == [a.json() for a in answers] + [last]
    assert rows(db, "SELECT count(*) FROM webhook_deliveries") == [(6,)]


async def test_refused_or_missing_changes_change_nothing_and_record_no_event(
    loopback_client: tuple[Client, Container], db: str
) -> None:
    # PUT and DELETE without If-Match try one conditional statement first; when it finds
    # no row the answer still comes from the locked read, and nothing is written.
    client, container = loopback_client
    alice = bearer(await on_app_loop(client, issue, container, "alice"))
    bob = bearer(await on_app_loop(client, issue, container, "bob"))
    hook = {"url": "http://127.0.0.1:9/hook", "eventTypes": ["resource.created",
            "resource.updated", "resource.deleted"]}  # fmt: skip
    assert (await client.post(HOOKS, json=hook, headers=alice)).status_code == 201
    made = (await client.post("/api/resources", json={"name": "mine"}, headers=alice)).json()
    url = f"/api/resources/{made['id']}"
    assert (await client.put(url, json={"name": "theirs"}, headers=bob)).status_code == 403
    assert (await client.delete(url, headers=bob)).status_code == 403
    for missing in (made["id"] + 1000, 0, 2**31, -1):
        gone = f"/api/resources/{missing}"
        put = await client.put(gone, json={"name": "x"}, headers=alice)
        assert put.status_code == 404 and put.json()["error"], missing
        assert (await client.delete(gone, headers=alice)).status_code == 404, missing
    assert (await client.get(url, headers=alice)).json() == made
    assert rows(db, "SELECT event_type FROM webhook_events") == [("resource.created",)]
    assert rows(db, "SELECT count(*) FROM resources") == [(1,)]


async def _not_pending(deliveries: Awaitable[list[dict[str, object]]]) -> bool:
    return all(d["status"] != "pending" for d in await deliveries)
