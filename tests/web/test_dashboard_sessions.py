"""Dashboard sessions end on the server: a sign-out or a revoked key ends the session on
every instance, and the old cookie, replayed anywhere, can no longer list or create keys.

Two app instances here are two containers on one database (two pools, two key caches,
two listeners), as two `keygate serve` processes are."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.container import Container, build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from entrypoints.web.session import COOKIE_NAME
from tests.support.clients import Client
from tests.support.dashboard import SESSION_SECRET, DashboardFactory, csrf_for, sign_in
from tests.support.keys import bearer, issue
from tests.support.tcp_proxy import postgres_proxy
from tests.support.waiting import eventually


@pytest.fixture
async def other(dashboard_client_of: DashboardFactory) -> AsyncIterator[Client]:
    """A second instance of the app, on the same database and session secret."""
    async with dashboard_client_of() as client:
        yield client


def carry_cookie(source: Client, target: Client) -> str:
    cookie = source.cookies.get(COOKIE_NAME, path="/dashboard")
    assert cookie
    target.cookies.set(COOKIE_NAME, cookie, path="/dashboard")
    return cookie


async def keys_of(open_container: Container, user: str) -> int:
    async with open_container.pool().connection() as conn:
        row = await (
            await conn.execute("SELECT count(*) FROM api_keys WHERE user_id = %s", (user,))
        ).fetchone()
    assert row is not None
    return int(row[0])


async def create_key_with(client: Client, csrf: str) -> int:
    response = await client.post(
        "/dashboard/keys",
        data={"csrf": csrf, "name": "after sign-out", "permissions": ["read"]},
        follow_redirects=False,
    )
    return response.status_code


async def test_signing_out_ends_the_session_on_every_instance(
    web: Client, other: Client, open_container: Container
) -> None:
    issued = await issue(open_container, user="leaver")
    await sign_in(web, issued.raw_key)
    old_cookie = carry_cookie(web, other)
    csrf = await csrf_for(other)  # the same session, seen by the other instance
    assert (await other.get("/dashboard/keys")).status_code == 200

    signed_out = await web.post("/dashboard/signout", data={"csrf": csrf}, follow_redirects=False)
    assert signed_out.status_code == 303

    # The browser forgot the cookie; whoever kept a copy replays it, on both instances.
    for client in (web, other):
        client.cookies.set(COOKIE_NAME, old_cookie, path="/dashboard")
        listed = await client.get("/dashboard/keys", follow_redirects=False)
        assert listed.status_code == 303
        assert listed.headers["location"] == "/dashboard/signin?notice=ended"
        client.cookies.set(COOKIE_NAME, old_cookie, path="/dashboard")
        assert await create_key_with(client, csrf) == 303
    assert await keys_of(open_container, "leaver") == 1
    # The key itself still works: only the session ended.
    assert (await web.get("/api/keys", headers=bearer(issued))).status_code == 200


async def test_a_replayed_cookie_after_sign_out_creates_no_key(
    web: Client, open_container: Container
) -> None:
    issued = await issue(open_container, user="replayer")
    await sign_in(web, issued.raw_key)
    old_cookie = web.cookies.get(COOKIE_NAME, path="/dashboard")
    csrf = await csrf_for(web)
    await web.post("/dashboard/signout", data={"csrf": csrf}, follow_redirects=False)
    web.cookies.set(COOKIE_NAME, old_cookie, path="/dashboard")
    assert await create_key_with(web, csrf) == 303
    assert await keys_of(open_container, "replayer") == 1


async def test_revoking_the_session_key_ends_it_on_every_instance(
    web: Client, other: Client, open_container: Container
) -> None:
    issued = await issue(open_container, user="revoked")
    await sign_in(web, issued.raw_key)
    carry_cookie(web, other)
    assert (await other.get("/dashboard/keys")).status_code == 200
    revoked = await web.delete(f"/api/keys/{issued.key.id}", headers=bearer(issued))
    assert revoked.status_code == 204

    async def ended_on(client: Client) -> bool:
        response = await client.get("/dashboard/keys", follow_redirects=False)
        return response.status_code == 303

    await eventually(lambda: ended_on(other))
    await eventually(lambda: ended_on(web))


async def test_signing_in_again_starts_a_new_session(
    web: Client, other: Client, open_container: Container
) -> None:
    """Ending one session ends only that one: the same user's other sessions go on."""
    issued = await issue(open_container, user="two-tabs")
    await sign_in(web, issued.raw_key)
    await sign_in(other, issued.raw_key)
    csrf = await csrf_for(web)
    await web.post("/dashboard/signout", data={"csrf": csrf}, follow_redirects=False)
    assert (await other.get("/dashboard/keys", follow_redirects=False)).status_code == 200
    assert (await web.get("/dashboard/keys", follow_redirects=False)).status_code == 303


async def test_a_session_store_away_is_a_503_page_and_the_session_outlives_it(
    settings: Settings, db: str
) -> None:
    with postgres_proxy(db) as proxy:
        changes = {"database_url": proxy.url, "db_timeout": 0.5, "session_secret": SESSION_SECRET}
        container = build_container(replace(settings, **changes))
        async with AsyncTestClient(
            app=create_asgi(container), raise_server_exceptions=False
        ) as web:  # type: ignore[arg-type]
            issued = await issue(container, user="outage")
            await sign_in(web, issued.raw_key)
            csrf = await csrf_for(web)
            proxy.cut()
            for response in (
                await web.get("/dashboard/keys", follow_redirects=False),
                await web.post("/dashboard/signout", data={"csrf": csrf}, follow_redirects=False),
            ):
                assert response.status_code == 503, response.text
                assert response.headers["content-type"].startswith("text/html")
                assert int(response.headers["retry-after"]) >= 1
            proxy.restore()

            async def back() -> bool:
                response = await web.get("/dashboard/keys", follow_redirects=False)
                return response.status_code == 200

            await eventually(back)
