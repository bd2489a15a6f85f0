"""Several real `keygate serve` processes on one database."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
import pytest

from entrypoints.container import Container
from tests.support.keys import bearer, issue
from tests.support.servers import running_server

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
