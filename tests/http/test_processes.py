"""Several real `keygate serve` processes on one database."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from entrypoints.container import Container
from tests.support.keys import bearer, issue
from tests.support.servers import running_server
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow
ONE_WORKER = {"WORKERS": "1"}


async def test_a_revoke_through_one_instance_stops_the_key_on_the_other(
    db: str, open_container: Container
) -> None:
    key = await issue(open_container)
    with running_server(db, ONE_WORKER) as a, running_server(db, ONE_WORKER) as b:
        async with httpx.AsyncClient(timeout=10, headers=bearer(key)) as http:
            assert (await http.get(f"{b.url}/api/keys")).status_code == 200
            assert (await http.get(f"{a.url}/api/keys")).status_code == 200
            assert (await http.delete(f"{a.url}/api/keys/{key.key.id}")).status_code == 204
            assert (await http.get(f"{b.url}/api/keys")).status_code == 401
            assert (await http.get(f"{a.url}/api/keys")).status_code == 401


async def test_sixty_racing_requests_over_two_processes_admit_exactly_twenty(
    db: str, open_container: Container
) -> None:
    key = await issue(open_container, rate_limit=20)
    with running_server(db, ONE_WORKER) as a, running_server(db, ONE_WORKER) as b:
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=60)) as http:
            responses = await asyncio.gather(
                *(http.get(f"{(a, b)[i % 2].url}/api/keys", headers=bearer(key)) for i in range(60))
            )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 20, 429: 40}
    refused = next(r for r in responses if r.status_code == 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 3660
    assert json.loads(refused.text)["error"].startswith("Rate limit exceeded. Limit: 20")


async def test_a_patch_through_one_instance_takes_effect_on_the_other(
    db: str, open_container: Container
) -> None:
    admin = await issue(open_container, "root", ("admin",))
    key = await issue(open_container)
    with running_server(db, ONE_WORKER) as a, running_server(db, ONE_WORKER) as b:
        async with httpx.AsyncClient(timeout=10) as http:
            first = await http.get(f"{b.url}/api/keys", headers=bearer(key))
            assert first.headers["x-ratelimit-limit"] == "100"  # now cached in b
            patched = await http.patch(
                f"{a.url}/api/keys/{key.key.id}", headers=bearer(admin), json={"rateLimit": 7}
            )
            assert patched.status_code == 200, patched.text

            async def b_sees_it() -> bool:
                response = await http.get(f"{b.url}/api/keys", headers=bearer(key))
                return response.headers["x-ratelimit-limit"] == "7"

            await eventually(b_sees_it)


async def test_a_key_expires_on_every_instance_at_its_instant_with_nothing_announced(
    db: str, open_container: Container
) -> None:
    with running_server(db, ONE_WORKER) as a, running_server(db, ONE_WORKER) as b:
        expires_at = datetime.now(UTC) + timedelta(seconds=8)
        key = await issue(open_container, expires_at=expires_at)
        async with httpx.AsyncClient(timeout=10, headers=bearer(key)) as http:
            for server in (a, b):  # each caches the key while it is still valid
                assert (await http.get(f"{server.url}/api/keys")).status_code == 200

            async def expired_on_both() -> bool:
                answers = [await http.get(f"{s.url}/api/keys") for s in (a, b)]
                return all(r.status_code == 401 for r in answers)

            await eventually(expired_on_both, within=20)
            assert datetime.now(UTC) >= expires_at
            for server in (a, b):
                response = await http.get(f"{server.url}/api/keys")
                assert response.json() == {"error": "API key expired"}


async def test_concurrent_rotations_over_two_processes_make_exactly_one_new_key(
    db: str, open_container: Container
) -> None:
    key = await issue(open_container)
    with running_server(db, ONE_WORKER) as a, running_server(db, ONE_WORKER) as b:
        async with httpx.AsyncClient(timeout=30, headers=bearer(key)) as http:
            responses = await asyncio.gather(
                *(
                    http.post(
                        f"{(a, b)[i % 2].url}/api/keys/{key.key.id}/rotate",
                        json={"gracePeriodSeconds": 60},
                    )
                    for i in range(10)
                )
            )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 9}
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM api_keys").fetchone() == (2,)
