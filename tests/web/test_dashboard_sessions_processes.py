"""A sign-out seen by another `keygate serve` process: two real servers, one database.

Each has its own pool, key cache and listener; the session ends in the database, so a
cookie copied before the sign-out opens nothing on the other server afterwards."""

from __future__ import annotations

import httpx
import pytest

from entrypoints.container import Container
from entrypoints.web.session import COOKIE_NAME
from tests.support.dashboard import csrf_of
from tests.support.keys import issue
from tests.support.servers import running_server

SESSION_SECRET = "p" * 40


async def signed_in_client(url: str, raw_key: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url, timeout=10, follow_redirects=True)
    page = await client.get("/dashboard/signin")
    signed = await client.post(
        "/dashboard/signin", data={"csrf": csrf_of(page.text), "api_key": raw_key}
    )
    assert signed.status_code == 200 and "/dashboard/keys" in str(signed.url), signed.text
    return client


@pytest.mark.slow
async def test_a_sign_out_on_one_server_ends_the_session_on_another(
    db: str, open_container: Container
) -> None:
    issued = await issue(open_container, user="two-servers")
    env = {"WORKERS": "1", "SESSION_SECRET": SESSION_SECRET}
    with running_server(db, env) as first, running_server(db, env) as second:
        browser = await signed_in_client(first.url, issued.raw_key)
        cookie = browser.cookies.get(COOKIE_NAME)
        assert cookie
        thief = httpx.AsyncClient(base_url=second.url, timeout=10)
        thief.cookies.set(COOKIE_NAME, cookie)
        page = await thief.get("/dashboard/keys", follow_redirects=False)
        assert page.status_code == 200, page.headers  # the same session, on the other server
        csrf = csrf_of(page.text)

        signed_out = await browser.post("/dashboard/signout", data={"csrf": csrf})
        assert signed_out.status_code == 200

        thief.cookies.set(COOKIE_NAME, cookie)
        listed = await thief.get("/dashboard/keys", follow_redirects=False)
        assert listed.status_code == 303
        assert listed.headers["location"] == "/dashboard/signin?notice=ended"
        thief.cookies.set(COOKIE_NAME, cookie)
        created = await thief.post(
            "/dashboard/keys",
            data={"csrf": csrf, "name": "stolen", "permissions": ["read"]},
            follow_redirects=False,
        )
        assert created.status_code == 303
        await browser.aclose()
        await thief.aclose()
    async with open_container.pool().connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM api_keys WHERE user_id = 'two-servers'")
        assert await cur.fetchone() == (1,)
