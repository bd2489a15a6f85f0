"""Exact under concurrency over two real `keygate serve` processes, on each quota store:
every window, and credits (API.md, Quotas)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from domain.keys import IssuedKey
from entrypoints.container import Container
from tests.support.keys import bearer, issue
from tests.support.redis import REDIS_URL, redis_prefix
from tests.support.servers import ServerProcess, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(params=["postgres", "redis"])
def store_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "postgres":
        yield {"WORKERS": "1"}
        return
    with redis_prefix() as prefix:
        yield {"WORKERS": "1", "QUOTA_STORE_URL": REDIS_URL, "QUOTA_STORE_PREFIX": prefix}


async def race(servers: tuple[ServerProcess, ...], key: IssuedKey, n: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        return await asyncio.gather(
            *(
                http.get(f"{servers[i % len(servers)].url}/api/keys", headers=bearer(key))
                for i in range(n)
            )
        )


async def test_forty_at_once_against_ten_a_minute_admit_exactly_ten(
    db: str, open_container: Container, store_env: dict[str, str]
) -> None:
    key = await issue(open_container, rate_limit=1000, per_minute=10)
    with running_server(db, store_env) as a, running_server(db, store_env) as b:
        responses = await race((a, b), key, 40)
    assert Counter(r.status_code for r in responses) == {200: 10, 429: 30}
    refused = next(r for r in responses if r.status_code == 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 61
    assert refused.json()["error"].startswith("Rate limit exceeded. Limit: 10 requests/minute")


async def test_twenty_at_once_against_five_credits_admit_exactly_five(
    db: str, open_container: Container, store_env: dict[str, str]
) -> None:
    key = await issue(open_container, rate_limit=1000)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(
            "UPDATE api_keys SET credits_remaining = 5, credits_version = 1 WHERE id = %s",
            (key.key.id,),
        )
    with running_server(db, store_env) as a, running_server(db, store_env) as b:
        responses = await race((a, b), key, 20)
        async with httpx.AsyncClient(timeout=10) as http:
            look = await http.get(f"{a.url}/api/keys/{key.key.id}/quota", headers=bearer(key))
    assert Counter(r.status_code for r in responses) == {200: 5, 429: 15}
    admitted = sorted(int(r.headers["x-credits-remaining"]) for r in responses if r.is_success)
    assert admitted == [0, 1, 2, 3, 4]
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json() == {"error": "Usage credits exhausted"}
    assert "retry-after" not in refused.headers  # no refill: waiting does not help
    assert look.status_code == 429  # the key itself has nothing left to look with
    # The hour counted the five admitted requests only.
    with running_server(db, store_env) as c:
        admin = await issue(open_container, "root", ("admin",))
        async with httpx.AsyncClient(timeout=10) as http:
            seen = await http.get(f"{c.url}/api/keys/{key.key.id}/quota", headers=bearer(admin))
    assert seen.json()["windows"][0]["remaining"] == 995
    assert seen.json()["credits"] == {"remaining": 0, "refill": None}


async def test_the_minute_refuses_and_the_hour_does_not_move_across_processes(
    db: str, open_container: Container, store_env: dict[str, str]
) -> None:
    key = await issue(open_container, rate_limit=100, per_minute=3, per_day=500)
    admin = await issue(open_container, "root", ("admin",))
    with running_server(db, store_env) as a, running_server(db, store_env) as b:
        responses = await race((a, b), key, 12)
        async with httpx.AsyncClient(timeout=10) as http:
            seen = await http.get(f"{b.url}/api/keys/{key.key.id}/quota", headers=bearer(admin))
    assert Counter(r.status_code for r in responses) == {200: 3, 429: 9}
    windows = {w["name"]: w["remaining"] for w in seen.json()["windows"]}
    assert windows == {"minute": 0, "hourly": 97, "daily": 497}


async def test_leases_over_two_processes_never_admit_more_than_the_limit(
    db: str, open_container: Container
) -> None:
    """Far from its limit a key is leased to each process a block at a time (PostgreSQL
    store): racing both past the limit admits no more than it, and what a process had
    left of its lease goes back when it stops."""
    key = await issue(open_container, rate_limit=2000)
    admin = await issue(open_container, "root", ("admin",))
    env = {"WORKERS": "1"}
    responses: list[httpx.Response] = []

    async def client(http: httpx.AsyncClient, server: ServerProcess) -> None:
        for _ in range(80):
            responses.append(await http.get(f"{server.url}/api/keys", headers=bearer(key)))

    with running_server(db, env) as a, running_server(db, env) as b:
        async with httpx.AsyncClient(timeout=30) as http:
            await asyncio.gather(*(client(http, (a, b)[i % 2]) for i in range(32)))
        a.stop(group=True)
        b.stop(group=True)
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) == {200, 429} and statuses[200] <= 2000
    # Refused only when the admitted and what the two leases held reached the limit.
    assert statuses[200] >= 2000 - 2 * (2000 // 64)
    remaining = sorted(int(r.headers["x-ratelimit-remaining"]) for r in responses if r.is_success)
    assert remaining[0] >= 0 and remaining[-1] == 1999
    with running_server(db, env) as c:
        async with httpx.AsyncClient(timeout=10) as http:
            seen = await http.get(f"{c.url}/api/keys/{key.key.id}/quota", headers=bearer(admin))
    assert seen.json()["windows"][0]["remaining"] == 2000 - statuses[200]
