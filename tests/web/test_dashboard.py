"""The dashboard over HTTP: the real app, the real container, a real database."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain.dashboard import SESSION_LIFETIME
from entrypoints.container import Container
from entrypoints.web.session import COOKIE_NAME, SessionCodec
from tests.support.clients import Client
from tests.support.dashboard import SESSION_SECRET, DashboardFactory, csrf_for, csrf_of, sign_in
from tests.support.keys import bearer, issue
from tests.support.waiting import eventually

RAW_KEY = re.compile(r'value="(rk_[0-9a-f]{64})"')


def raw_key_in(html: str) -> str:
    match = RAW_KEY.search(html)
    assert match, "page shows no raw key"
    return match.group(1)


async def api_status_of(client: Client, raw_key: str) -> int:
    response = await client.get("/api/keys", headers={"Authorization": f"Bearer {raw_key}"})
    return response.status_code


def refused_by_api(client: Client, raw_key: str) -> Callable[[], Awaitable[bool]]:
    """Revocation reaches each process's key cache by NOTIFY, a moment after the commit."""

    async def refused() -> bool:
        return await api_status_of(client, raw_key) == 401

    return refused


# -- sign-in and sessions --------------------------------------------------------------


async def test_signin_page_sets_a_locked_down_session_cookie(web: Client) -> None:
    response = await web.get("/dashboard/signin")
    assert response.status_code == 200
    assert 'name="api_key"' in response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # served over plain http here
    assert "x-ratelimit-limit" not in response.headers
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_session_cookie_is_secure_when_the_public_url_is_https(
    dashboard_client_of: DashboardFactory,
) -> None:
    async with dashboard_client_of(public_base_url="https://keys.example.com") as client:
        response = await client.get("/dashboard/signin")
    assert "Secure" in response.headers["set-cookie"]


async def test_pages_need_a_session(web: Client) -> None:
    for path in (
        "/dashboard/keys",
        "/dashboard/keys/new",
        "/dashboard/keys/1",
        "/dashboard/requests",
    ):
        response = await web.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/dashboard/signin"
    home = await web.get("/dashboard", follow_redirects=False)
    assert home.headers["location"] == "/dashboard/signin"


async def test_signin_with_a_key_lists_that_users_keys(
    web: Client, open_container: Container
) -> None:
    mine = await issue(open_container, "alice", ("read", "write"), rate_limit=250, name="CI deploy")
    await issue(open_container, "alice", ("read",), name="reporting")
    theirs = await issue(open_container, "bob", name="bobs key")
    await sign_in(web, mine.raw_key)
    page = await web.get("/dashboard/keys")
    assert page.status_code == 200
    assert "CI deploy" in page.text and "reporting" in page.text
    assert mine.key.prefix in page.text
    assert "read, write" in page.text
    assert "250" in page.text
    assert "active" in page.text
    assert theirs.key.prefix not in page.text and "bobs key" not in page.text
    assert mine.raw_key not in page.text
    assert (await web.get("/dashboard", follow_redirects=False)).headers["location"] == (
        "/dashboard/keys"
    )


async def test_last_used_is_shown(web: Client, open_container: Container) -> None:
    issued = await issue(open_container, "alice", name="used")
    assert (await web.get("/api/keys", headers=bearer(issued))).status_code == 200
    other = await issue(open_container, "alice", name="viewer")
    await sign_in(web, other.raw_key)

    async def shows_use() -> bool:
        row = re.search(
            rf'<tr id="key-{issued.key.id}">.*?</tr>',
            (await web.get("/dashboard/keys")).text,
            re.S,
        )
        return row is not None and "never" not in row.group(0)

    await eventually(shows_use)


async def test_bad_key_is_refused(web: Client, open_container: Container) -> None:
    page = await web.get("/dashboard/signin")
    response = await web.post(
        "/dashboard/signin", data={"csrf": csrf_of(page.text), "api_key": "rk_" + "0" * 64}
    )
    assert response.status_code == 401
    assert "Invalid or revoked API key" in response.text
    assert (await web.get("/dashboard/keys", follow_redirects=False)).status_code == 303


async def test_signin_without_or_with_wrong_csrf_is_403(
    web: Client, open_container: Container
) -> None:
    issued = await issue(open_container)
    await web.get("/dashboard/signin")
    missing = await web.post("/dashboard/signin", data={"api_key": issued.raw_key})
    wrong = await web.post("/dashboard/signin", data={"api_key": issued.raw_key, "csrf": "x" * 43})
    assert missing.status_code == 403
    assert wrong.status_code == 403
    assert (await web.get("/dashboard/keys", follow_redirects=False)).status_code == 303


async def test_signin_attempts_are_limited_per_ip(
    dashboard_client_of: DashboardFactory, open_container: Container
) -> None:
    async with dashboard_client_of(signin_per_hour=2) as client:
        csrf = csrf_of((await client.get("/dashboard/signin")).text)
        codes = [
            (
                await client.post("/dashboard/signin", data={"csrf": csrf, "api_key": "rk_nope"})
            ).status_code
            for _ in range(3)
        ]
    assert codes == [401, 401, 429]


async def test_signout_ends_the_session(web: Client, open_container: Container) -> None:
    issued = await issue(open_container)
    await sign_in(web, issued.raw_key)
    csrf = await csrf_for(web)
    assert (
        await web.post("/dashboard/signout", data={}, follow_redirects=False)
    ).status_code == 403
    response = await web.post("/dashboard/signout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert (await web.get("/dashboard/keys", follow_redirects=False)).status_code == 303


async def test_expired_forged_or_unbacked_session_is_refused(
    web: Client, open_container: Container
) -> None:
    issued = await issue(open_container)
    started = await open_container.start_session()("alice")
    now = time.time()
    past = SessionCodec(SESSION_SECRET, clock=lambda: now - SESSION_LIFETIME.total_seconds() - 1)
    early = replace(started, expires_at=datetime.fromtimestamp(now - 1, UTC))
    expired = past.seal(past.signed_in("alice", early, api_key=issued.raw_key))
    web.cookies.set(COOKIE_NAME, expired, path="/dashboard")
    response = await web.get("/dashboard/keys", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/signin"

    forged = SessionCodec("f" * 40)
    sealed = forged.seal(forged.signed_in("alice", started, api_key=issued.raw_key))
    web.cookies.set(COOKIE_NAME, sealed, path="/dashboard")
    assert (await web.get("/dashboard/keys", follow_redirects=False)).status_code == 303

    # Sealed with the right secret but naming no session the server started: refused.
    good = SessionCodec(SESSION_SECRET)
    unbacked = replace(started, id="never-started")
    web.cookies.set(
        COOKIE_NAME,
        good.seal(good.signed_in("alice", unbacked, api_key=issued.raw_key)),
        path="/dashboard",
    )
    assert (await web.get("/dashboard/keys", follow_redirects=False)).status_code == 303

    web.cookies.set(
        COOKIE_NAME,
        good.seal(good.signed_in("alice", started, api_key=issued.raw_key)),
        path="/dashboard",
    )
    assert (await web.get("/dashboard/keys", follow_redirects=False)).status_code == 200


async def test_session_cookie_expires_with_the_session(
    web: Client, open_container: Container
) -> None:
    issued = await issue(open_container)
    page = await web.get("/dashboard/signin")
    response = await web.post(
        "/dashboard/signin",
        data={"csrf": csrf_of(page.text), "api_key": issued.raw_key},
        follow_redirects=False,
    )
    max_age = int(re.search(r"Max-Age=(\d+)", response.headers["set-cookie"]).group(1))  # type: ignore[union-attr]
    assert SESSION_LIFETIME.total_seconds() - 5 <= max_age <= SESSION_LIFETIME.total_seconds()


async def test_revoking_the_key_ends_its_session(web: Client, open_container: Container) -> None:
    issued = await issue(open_container)
    await sign_in(web, issued.raw_key)
    assert (await web.get("/dashboard/keys")).status_code == 200
    # Revoked elsewhere (through the API): the session must end too.
    assert (
        await web.delete(f"/api/keys/{issued.key.id}", headers=bearer(issued))
    ).status_code == 204

    seen = []

    async def ended() -> bool:
        seen.append(await web.get("/dashboard/keys", follow_redirects=False))
        return seen[-1].status_code == 303

    await eventually(ended)
    assert seen[-1].headers["location"] == "/dashboard/signin?notice=ended"
    assert "Max-Age=0" in seen[-1].headers["set-cookie"]


# -- key management --------------------------------------------------------------------


async def test_create_key_shows_it_once_and_it_works(
    web: Client, open_container: Container
) -> None:
    issued = await issue(open_container, "alice", ("read", "write"))
    await sign_in(web, issued.raw_key)
    form = await web.get("/dashboard/keys/new")
    assert form.status_code == 200
    assert 'value="admin"' not in form.text  # not grantable by a non-admin
    response = await web.post(
        "/dashboard/keys",
        data={"csrf": csrf_of(form.text), "name": "from the browser", "permissions": ["read"]},
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    assert 'data-copy="raw-key"' in response.text
    raw = raw_key_in(response.text)
    listed = await web.get("/api/keys", headers={"Authorization": f"Bearer {raw}"})
    assert listed.status_code == 200
    names = {k["name"]: k for k in listed.json()["data"]}
    assert names["from the browser"]["permissions"] == ["read"]
    assert names["from the browser"]["userId"] == "alice"
    page = await web.get("/dashboard/keys")
    assert "from the browser" in page.text and raw not in page.text


async def test_create_key_without_csrf_is_403_and_creates_nothing(
    web: Client, open_container: Container
) -> None:
    issued = await issue(open_container)
    await sign_in(web, issued.raw_key)
    response = await web.post("/dashboard/keys", data={"name": "sneaky", "permissions": ["read"]})
    assert response.status_code == 403
    response = await web.post(
        "/dashboard/keys", data={"name": "sneaky", "permissions": ["read"], "csrf": "wrong"}
    )
    assert response.status_code == 403
    assert "sneaky" not in (await web.get("/dashboard/keys")).text


async def test_create_key_rules_come_from_the_use_case(
    web: Client, open_container: Container
) -> None:
    reader = await issue(open_container, "alice", ("read",))
    await sign_in(web, reader.raw_key)
    csrf = await csrf_for(web, "/dashboard/keys/new")
    wider = await web.post(
        "/dashboard/keys", data={"csrf": csrf, "name": "wider", "permissions": ["write"]}
    )
    assert wider.status_code == 403
    assert "missing: write" in wider.text
    blank = await web.post(
        "/dashboard/keys", data={"csrf": csrf, "name": " ", "permissions": ["read"]}
    )
    assert blank.status_code == 400
    none = await web.post("/dashboard/keys", data={"csrf": csrf, "name": "no perms"})
    assert none.status_code == 400


async def test_admin_sees_every_user_and_may_issue_for_them(
    web: Client, open_container: Container
) -> None:
    admin = await issue(open_container, "root", ("admin",), name="root key")
    await issue(open_container, "bob", name="bobs key")
    await sign_in(web, admin.raw_key)
    page = await web.get("/dashboard/keys")
    assert "bobs key" in page.text and "root key" in page.text
    assert ">bob<" in page.text  # the user column
    filtered = await web.get("/dashboard/keys", params={"user": "bob"})
    assert "bobs key" in filtered.text and "root key" not in filtered.text
    csrf = csrf_of(page.text)
    response = await web.post(
        "/dashboard/keys",
        data={"csrf": csrf, "name": "for carol", "permissions": ["read"], "user_id": "carol",
              "rate_limit": "7"},
    )  # fmt: skip
    assert response.status_code == 201
    raw = raw_key_in(response.text)
    keys = (await web.get("/api/keys", headers={"Authorization": f"Bearer {raw}"})).json()["data"]
    assert [(k["userId"], k["rateLimit"]) for k in keys] == [("carol", 7)]


async def test_revoke_asks_first_then_the_api_refuses_the_key(
    web: Client, open_container: Container
) -> None:
    me = await issue(open_container, "alice", name="session")
    victim = await issue(open_container, "alice", name="old integration")
    await sign_in(web, me.raw_key)
    confirm = await web.get(f"/dashboard/keys/{victim.key.id}/revoke")
    assert confirm.status_code == 200
    assert "old integration" in confirm.text and "cannot be undone" in confirm.text
    # Seeing the confirmation changes nothing.
    assert (await web.get("/api/keys", headers=bearer(victim))).status_code == 200
    refused = await web.post(f"/dashboard/keys/{victim.key.id}/revoke", data={})
    assert refused.status_code == 403
    assert (await web.get("/api/keys", headers=bearer(victim))).status_code == 200
    done = await web.post(
        f"/dashboard/keys/{victim.key.id}/revoke",
        data={"csrf": csrf_of(confirm.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    await eventually(refused_by_api(web, victim.raw_key))
    page = await web.get(done.headers["location"])
    assert "was revoked" in page.text
    assert re.search(rf'<tr id="key-{victim.key.id}">.*?revoked', page.text, re.S)


async def test_rotate_replaces_the_key(web: Client, open_container: Container) -> None:
    me = await issue(open_container, "alice", name="session")
    old = await issue(open_container, "alice", ("read",), rate_limit=42, name="rotating")
    await sign_in(web, me.raw_key)
    confirm = await web.get(f"/dashboard/keys/{old.key.id}/rotate")
    assert "same name, permissions, limits and expiry" in confirm.text
    refused = await web.post(f"/dashboard/keys/{old.key.id}/rotate", data={"csrf": "forged"})
    assert refused.status_code == 403
    assert await api_status_of(web, old.raw_key) == 200
    response = await web.post(
        f"/dashboard/keys/{old.key.id}/rotate", data={"csrf": csrf_of(confirm.text)}
    )
    assert response.status_code == 201
    new_raw = raw_key_in(response.text)
    await eventually(refused_by_api(web, old.raw_key))
    keys = (await web.get("/api/keys", headers={"Authorization": f"Bearer {new_raw}"})).json()[
        "data"
    ]
    rotated = [k for k in keys if k["name"] == "rotating" and k["isActive"]]
    assert [(k["rateLimit"], k["permissions"]) for k in rotated] == [(42, ["read"])]
    again = await web.post(
        f"/dashboard/keys/{old.key.id}/rotate", data={"csrf": csrf_of(confirm.text)}
    )
    assert again.status_code == 409


async def test_rotating_the_session_key_keeps_the_session(
    web: Client, open_container: Container
) -> None:
    me = await issue(open_container, "alice", name="session")
    await sign_in(web, me.raw_key)
    csrf = await csrf_for(web)
    response = await web.post(f"/dashboard/keys/{me.key.id}/rotate", data={"csrf": csrf})
    assert response.status_code == 201
    assert (await web.get("/dashboard/keys", follow_redirects=False)).status_code == 200


async def test_another_users_key_is_404_everywhere(web: Client, open_container: Container) -> None:
    me = await issue(open_container, "alice")
    theirs = await issue(open_container, "bob")
    await sign_in(web, me.raw_key)
    csrf = await csrf_for(web)
    kid = theirs.key.id
    for path in (
        f"/dashboard/keys/{kid}",
        f"/dashboard/keys/{kid}/revoke",
        f"/dashboard/keys/{kid}/rotate",
    ):
        assert (await web.get(path)).status_code == 404, path
    for action in ("revoke", "rotate"):
        response = await web.post(f"/dashboard/keys/{kid}/{action}", data={"csrf": csrf})
        assert response.status_code == 404, action
    assert (await web.get("/dashboard/keys/999999")).status_code == 404
    assert (await web.get("/dashboard/keys/99999999999")).status_code == 404
    assert (await web.get(f"/dashboard/keys/{me.key.id}/explode")).status_code in (404, 405)
    assert (await web.get("/api/keys", headers=bearer(theirs))).status_code == 200


# -- usage and recent requests ---------------------------------------------------------


async def test_usage_chart_is_drawn_by_the_server(web: Client, open_container: Container) -> None:
    me = await issue(open_container, "alice", name="busy")
    for _ in range(3):
        assert (await web.get("/api/keys", headers=bearer(me))).status_code == 200
    assert (await web.get("/api/keys/999999", headers=bearer(me))).status_code in (404, 405)
    await sign_in(web, me.raw_key)

    async def counted() -> bool:
        page = await web.get(f"/dashboard/keys/{me.key.id}")
        counts = [int(c) for c in re.findall(r'class="bar"[^>]*data-count="(\d+)"', page.text)]
        return len(counts) == 24 and sum(counts) == 4

    await eventually(counted)
    page = await web.get(f"/dashboard/keys/{me.key.id}")
    assert '<svg viewBox="0 0 720 240" role="img"' in page.text
    assert "<script" not in page.text.split("</head>")[1]
    assert "4 requests in the last 24 hours" in page.text


async def test_recent_requests_filter_by_status_class(
    web: Client, open_container: Container
) -> None:
    me = await issue(open_container, "alice")
    other = await issue(open_container, "bob")
    assert (await web.get("/api/keys", headers=bearer(me))).status_code == 200
    assert (await web.get("/api/keys/999999/usage", headers=bearer(me))).status_code == 404
    assert (await web.get("/api/keys", headers=bearer(other))).status_code == 200
    await sign_in(web, me.raw_key)

    async def logged() -> bool:
        return (await web.get("/dashboard/requests")).text.count("<code>/api/keys") == 2

    await eventually(logged)
    everything = await web.get("/dashboard/requests")
    assert "/api/keys/999999/usage" in everything.text
    assert f">{other.key.id}</a>" not in everything.text
    four = await web.get("/dashboard/requests", params={"status": "4xx"})
    assert "/api/keys/999999/usage" in four.text
    assert four.text.count("<code>/api/keys") == 1
    two = await web.get("/dashboard/requests", params={"status": "2xx"})
    assert two.text.count("<code>/api/keys") == 1 and "999999" not in two.text


async def test_static_assets_are_served_by_the_project(web: Client) -> None:
    css = await web.get("/dashboard/static/style.css")
    js = await web.get("/dashboard/static/copy.js")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert js.status_code == 200 and "clipboard" in js.text
    page = await web.get("/dashboard/signin")
    assert "http://" not in page.text and "https://" not in page.text


@pytest.mark.parametrize("path", ["/dashboard/nothing-here"])
async def test_unknown_dashboard_path_is_404(web: Client, path: str) -> None:
    assert (await web.get(path)).status_code == 404
