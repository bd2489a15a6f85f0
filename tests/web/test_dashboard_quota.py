"""The dashboard's key page shows what each quota window and the credits have left, as
GET /api/keys/{id}/quota reads them, spending nothing."""

from __future__ import annotations

import re

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.dashboard import sign_in
from tests.support.keys import bearer, issue

ROW = re.compile(
    r'<tr data-window="(\w+)"><td>\w+</td><td class="num">(\d+)</td><td class="num">(\d+)</td>'
)


def windows_of(html: str) -> dict[str, tuple[int, int]]:
    return {name: (int(limit), int(left)) for name, limit, left in ROW.findall(html)}


async def test_key_page_shows_each_window_and_the_credits_left(
    web: Client, open_container: Container
) -> None:
    admin = await issue(open_container, "root", permissions=("read", "write", "admin"))
    me = await issue(open_container, "alice", name="metered", rate_limit=50, per_minute=9)
    credits = {"remaining": 6, "refill": {"interval": "daily", "amount": 6}}
    patched = await web.patch(
        f"/api/keys/{me.key.id}", json={"credits": credits}, headers=bearer(admin)
    )
    assert patched.status_code == 200, patched.text
    for _ in range(2):
        assert (await web.get("/api/keys", headers=bearer(me))).status_code == 200
    await sign_in(web, me.raw_key)  # a sign-in is limited per address, not on the key
    page = await web.get(f"/dashboard/keys/{me.key.id}")
    assert page.status_code == 200
    assert windows_of(page.text) == {"minute": (9, 7), "hourly": (50, 48)}
    assert 'data-credits="4"' in page.text
    assert "set back to 6 daily" in page.text
    again = await web.get(f"/dashboard/keys/{me.key.id}")  # looking spends nothing
    assert windows_of(again.text) == windows_of(page.text)


async def test_an_unmetered_key_says_so(web: Client, open_container: Container) -> None:
    me = await issue(open_container, "bob", rate_limit=10)
    await sign_in(web, me.raw_key)
    page = await web.get(f"/dashboard/keys/{me.key.id}")
    assert windows_of(page.text) == {"hourly": (10, 10)}
    assert "Unmetered: no usage credits." in page.text
