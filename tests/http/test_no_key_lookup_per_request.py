"""Authenticated requests do not look their key up in the database each time."""

from __future__ import annotations

import asyncio

import psycopg
from litestar.testing import AsyncTestClient

from entrypoints.container import Container
from tests.conftest import bearer, issue

REQUESTS = 200


def api_keys_index_scans(db: str) -> int:
    with psycopg.connect(db) as conn:
        (scans,) = conn.execute(
            "SELECT coalesce(idx_scan, 0) + coalesce(seq_scan, 0) FROM pg_stat_user_tables"
            " WHERE relname = 'api_keys'"
        ).fetchone()  # type: ignore[misc]
    return int(scans)


async def settled_scans(db: str) -> int:
    # Backends report table statistics when idle, at most once a second.
    await asyncio.sleep(1.5)
    return api_keys_index_scans(db)


Client = AsyncTestClient  # type: ignore[type-arg]


async def test_key_lookups_do_not_grow_with_requests(
    client: Client, container: Container, db: str
) -> None:
    key = await issue(container, rate_limit=10_000)
    await asyncio.sleep(0.3)  # let the INSERT's own notification go by
    assert (await client.get("/api/keys", headers=bearer(key))).status_code == 200
    before = await settled_scans(db)
    for _ in range(REQUESTS):
        response = await client.get("/api/no-such-route", headers=bearer(key))
        assert response.headers["x-ratelimit-limit"] == "10000"
    after = await settled_scans(db)
    # A lookup per request would add REQUESTS scans; the cache adds none.
    assert after - before < 5, after - before
