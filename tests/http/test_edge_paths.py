"""A path spelled another way is the same route to the outer layer as to Litestar.

Litestar routes `//api/x`, `/api/x/` and `/api//x` as `/api/x`; the outer layer once
took them for paths outside /api, so they skipped authentication, the quota and the
request log (25 sign-ups in a row after the per-IP limit had refused the client).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import msgspec
import pytest

from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.http.edge import Edge
from entrypoints.settings import Settings
from tests.support.asgi import ASGIApp, call
from tests.support.clients import Client
from tests.support.keys import bearer, issue
from tests.support.logs import logged_rows

SIGN_UP = b'{"name": "n"}'
JSON = {"content_type": "application/json"}
# Each names /api/auth/register, the way a router may read it.
SPELLINGS = (
    "//api/auth/register",
    "///api/auth/register",
    "/api//auth/register",
    "/api/auth//register",
    "/api/auth/register/",
    "/api/auth/register//",
    "//api/v1//auth/register/",
    "/./api/auth/register",
    "/api/./auth/register",
    "/api/auth/./register",
    "/api/x/../auth/register",
    "/api/auth/register/.",
    "/../api/auth/register",
)
# Not /api/auth/register to Litestar (routes are case-sensitive), so a 404: but under
# /api all the same, so logged, and counted when a valid key comes with it.
CASE_VARIANTS = ("/API/auth/register", "/Api/auth/register", "/api/AUTH/register", "/api/V1/keys")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    """The real application (two sign-ups per IP per hour), its lifespan running. The
    store timeout is roomy: these tests count exact outcomes, and a shared two-core
    machine once took more than the suite's 2 s to answer a quota call (a 503)."""
    roomy = replace(settings, registration_per_hour=2, db_timeout=10.0)
    app = create_asgi(build_container(roomy))
    async with Client(app=app, raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        yield client


@pytest.fixture
def app(client: Client) -> ASGIApp:
    """The app, run on the loop its lifespan runs on (the client's portal thread), as the
    client's own requests are: the pool and the background tasks live there, and a call
    from the test's loop once waited on a connection the other loop handed back (a
    wake-up across threads that never came: 10 s, then a 503)."""
    edge: Edge = client.app

    async def on_portal(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await asyncio.to_thread(client.blocking_portal.call, edge, scope, receive, send)

    return on_portal


async def test_every_spelling_of_sign_up_counts_against_the_same_ip_limit(
    app: ASGIApp, db: str
) -> None:
    for _ in range(2):
        assert (await call(app, "POST", "/api/auth/register", SIGN_UP, **JSON)).status == 201
    for path in SPELLINGS:
        answer = await call(app, "POST", path, SIGN_UP, **JSON)
        assert answer.status == 429, (path, answer)
        assert answer.headers["x-ratelimit-remaining"] == "0", path
        assert answer.headers["retry-after"], path
    rows = await logged_rows(db, 2 + len(SPELLINGS))
    # Compared as multisets: batches of rows may land in either order.
    assert Counter((r["path"], r["status_code"]) for r in rows) == Counter(
        [
            ("/api/auth/register", 201),
            ("/api/auth/register", 201),
            *[
                ("/api/v1/auth/register" if "v1" in p else "/api/auth/register", 429)
                for p in SPELLINGS
            ],
        ]
    )


async def test_an_encoded_slash_is_the_path_it_decodes_to(client: Client, db: str) -> None:
    # An ASGI server decodes %2F before the app sees the path, as this client does.
    for _ in range(3):
        response = await client.post("/api%2Fauth%2Fregister", json={"name": "n"})
    assert response.status_code == 429
    rows = await logged_rows(db, 3)
    assert sorted(r["status_code"] for r in rows) == [201, 201, 429]


async def test_keyed_routes_spelled_another_way_need_the_key_and_count_it(
    app: ASGIApp, settings: Settings, db: str
) -> None:
    key = await issue(build_container(settings), rate_limit=10)
    auth = bearer(key)["Authorization"]
    unkeyed = await call(app, "GET", "//api/resources")
    assert unkeyed.status == 401, unkeyed
    listed = await call(app, "GET", "/api//resources/", authorization=auth)
    assert listed.status == 200, listed
    assert listed.headers["x-ratelimit-remaining"] == "9", listed
    dotted = await call(app, "GET", "/api/./keys/..//resources", authorization=auth)
    assert dotted.status == 200, dotted
    assert dotted.headers["x-ratelimit-remaining"] == "8", dotted
    rows = await logged_rows(db, 3)
    assert Counter((r["path"], r["status_code"], r["api_key_id"]) for r in rows) == Counter(
        [
            ("/api/resources", 401, None),
            ("/api/resources", 200, key.key.id),
            ("/api/resources", 200, key.key.id),
        ]
    )


async def test_case_variants_are_logged_404s_and_counted_with_a_key(
    app: ASGIApp, settings: Settings, db: str
) -> None:
    key = await issue(build_container(settings), rate_limit=10)
    auth = bearer(key)["Authorization"]
    for path in CASE_VARIANTS:
        answer = await call(app, "POST", path, SIGN_UP, **JSON)
        assert answer.status == 404, (path, answer)
        assert msgspec.json.decode(answer.body) == {"error": "Not found"}
    keyed = await call(app, "GET", "/API/keys", authorization=auth)
    assert keyed.status == 404
    assert keyed.headers["x-ratelimit-remaining"] == "9"
    rows = await logged_rows(db, len(CASE_VARIANTS) + 1)
    assert Counter((r["path"], r["status_code"], r["api_key_id"]) for r in rows) == Counter(
        [*[(path, 404, None) for path in CASE_VARIANTS], ("/API/keys", 404, key.key.id)]
    )
