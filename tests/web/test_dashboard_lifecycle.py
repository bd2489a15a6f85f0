"""The dashboard's side of the key lifecycle: rotating with a grace period, and the audit
log page for admins (its rows saying they came from the dashboard)."""

from __future__ import annotations

import re

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.dashboard import csrf_of, sign_in
from tests.support.keys import bearer, issue

RAW_KEY = re.compile(r'value="(rk_[0-9a-f]{64})"')


async def test_the_rotate_form_offers_grace_periods_and_the_old_key_keeps_working(
    web: Client, open_container: Container
) -> None:
    me = await issue(open_container, "alice", name="session")
    old = await issue(open_container, "alice", name="rolling")
    await sign_in(web, me.raw_key)
    confirm = await web.get(f"/dashboard/keys/{old.key.id}/rotate")
    assert re.findall(r'<option value="(\d+)"', confirm.text) == ["0", "3600", "86400", "604800"]
    response = await web.post(
        f"/dashboard/keys/{old.key.id}/rotate",
        data={"csrf": csrf_of(confirm.text), "grace": "86400"},
    )
    assert response.status_code == 201, response.text
    new_raw = RAW_KEY.search(response.text)
    assert new_raw is not None
    # Both keys work during the grace period.
    assert (await web.get("/api/keys", headers=bearer(old))).status_code == 200
    listed = await web.get("/api/keys", headers={"Authorization": f"Bearer {new_raw.group(1)}"})
    assert listed.status_code == 200
    page = await web.get("/dashboard/keys")
    row = re.search(rf'<tr id="key-{old.key.id}">.*?</tr>', page.text, re.S)
    assert row is not None and "grace period" in row.group(0) and "/rotate" not in row.group(0)


async def test_a_bad_grace_period_is_a_400_page_and_rotates_nothing(
    web: Client, open_container: Container
) -> None:
    me = await issue(open_container, "alice")
    await sign_in(web, me.raw_key)
    confirm = await web.get(f"/dashboard/keys/{me.key.id}/rotate")
    for grace in ("-1", "604801", "1h", "١"):
        response = await web.post(
            f"/dashboard/keys/{me.key.id}/rotate",
            data={"csrf": csrf_of(confirm.text), "grace": grace},
        )
        assert response.status_code == 400, grace
        assert "text/html" in response.headers["content-type"]
    assert (await web.get("/api/keys", headers=bearer(me))).json()["pagination"]["total"] == 1


async def test_admins_read_the_audit_log_page_and_dashboard_changes_say_so(
    web: Client, open_container: Container
) -> None:
    admin = await issue(open_container, "root", ("read", "write", "admin"))
    victim = await issue(open_container, "alice", name="victim")
    await sign_in(web, admin.raw_key)
    confirm = await web.get(f"/dashboard/keys/{victim.key.id}/revoke")
    revoked = await web.post(
        f"/dashboard/keys/{victim.key.id}/revoke",
        data={"csrf": csrf_of(confirm.text)},
        headers={"X-Request-ID": "dash-revoke-1"},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    keys_page = await web.get("/dashboard/keys")
    assert 'href="/dashboard/audit"' in keys_page.text
    page = await web.get("/dashboard/audit", params={"action": "key.revoked"})
    assert page.status_code == 200
    rows = re.findall(r'<tr id="audit-\d+">.*?</tr>', page.text, re.S)
    assert len(rows) == 1
    assert "key.revoked" in rows[0] and f"key {victim.key.id}" in rows[0]
    assert "dashboard" in rows[0] and "dash-revoke-1" in rows[0]
    assert victim.raw_key not in page.text
    api = await web.get(
        "/api/audit",
        headers=bearer(admin),
        params={"targetId": victim.key.id, "action": "key.revoked"},
    )
    (entry,) = api.json()["data"]
    assert entry["actor"] == {"userId": "root", "keyId": admin.key.id, "via": "dashboard"}
    assert entry["requestId"] == "dash-revoke-1"


async def test_the_audit_page_is_for_admins_only(web: Client, open_container: Container) -> None:
    me = await issue(open_container, "alice")
    await sign_in(web, me.raw_key)
    assert 'href="/dashboard/audit"' not in (await web.get("/dashboard/keys")).text
    response = await web.get("/dashboard/audit")
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
