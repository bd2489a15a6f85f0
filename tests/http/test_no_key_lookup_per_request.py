"""Authenticated requests do not look their key up in the database each time."""

from __future__ import annotations

import asyncio

from litestar.testing import AsyncTestClient

from domain.keys import ApiKey
from entrypoints.container import Container
from entrypoints.http.app import create_asgi
from tests.support.keys import bearer, issue

REQUESTS = 200


class CountingKeyStore:
    """The real PostgreSQL key store, counting the queries it is asked to run."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self.queries = 0

    async def find_by_hash(self, key_hash: str) -> ApiKey | None:
        self.queries += 1
        return await self._inner.find_by_hash(key_hash)  # type: ignore[attr-defined,no-any-return]


async def test_key_lookups_do_not_grow_with_requests(container: Container) -> None:
    store = CountingKeyStore(container.key_store())
    container.key_store.override(store)
    async with AsyncTestClient(app=create_asgi(container)) as client:  # type: ignore[arg-type]
        key = await issue(container, rate_limit=10_000)
        await asyncio.sleep(0.3)  # let the INSERT's own notification go by
        for _ in range(REQUESTS):
            response = await client.get("/api/no-such-route", headers=bearer(key))
            assert response.headers["x-ratelimit-limit"] == "10000"
    # One lookup fills the cache; a lookup per request would make REQUESTS of them.
    assert store.queries == 1
