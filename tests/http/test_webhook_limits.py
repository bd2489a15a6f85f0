"""One subscription per URL and user, and a cap per user (issue 14 #9)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from litestar.testing import AsyncTestClient

from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.clients import Client
from tests.support.keys import bearer, issue

HOOK = {"url": "https://hooks.example/in", "eventTypes": ["resource.created"]}


async def test_the_same_url_twice_is_a_409_even_when_sent_at_once(
    client: Client, settings: Settings
) -> None:
    container = build_container(settings)
    alice = bearer(await issue(container, "alice"))
    answers = await asyncio.gather(
        *(client.post("/api/webhooks", json=HOOK, headers=alice) for _ in range(8))
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    refused = next(a for a in answers if a.status_code == 409)
    assert "already subscribed" in refused.json()["error"]
    listed = await client.get("/api/webhooks", headers=alice)
    assert listed.json()["pagination"]["total"] == 1
    # Another user may subscribe the same URL.
    bob = bearer(await issue(container, "bob"))
    assert (await client.post("/api/webhooks", json=HOOK, headers=bob)).status_code == 201


async def test_subscriptions_beyond_the_configured_cap_are_a_409(settings: Settings) -> None:
    container = build_container(replace(settings, webhook_max_per_user=2))
    async with AsyncTestClient(app=create_asgi(container), raise_server_exceptions=False) as c:
        alice = bearer(await issue(container, "alice"))
        for i in range(2):
            hook = {**HOOK, "url": f"https://hooks.example/{i}"}
            assert (await c.post("/api/webhooks", json=hook, headers=alice)).status_code == 201
        over = await c.post(
            "/api/webhooks", json={**HOOK, "url": "https://hooks.example/9"}, headers=alice
        )
        assert over.status_code == 409
        assert "at most 2 webhook subscriptions" in over.json()["error"]
