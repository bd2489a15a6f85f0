"""The dashboard's usage pages on the rollups: a key's chart by hour or by day, of one
status or all, and the admins' overview of the busiest keys."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import psycopg

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.dashboard import sign_in
from tests.support.keys import issue

BAR = re.compile(r'class="bar"[^>]*data-count="(\d+)"')


def log_rows(db: str, rows: list[tuple[int, int, datetime]]) -> None:
    with psycopg.connect(db, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO request_logs (api_key_id, method, path, status_code,"
            " response_time_ms, created_at) VALUES (%s, 'GET', '/api/x', %s, 3, %s)",
            rows,
        )


async def test_key_page_by_day_and_by_status(
    web: Client, open_container: Container, db: str
) -> None:
    me = await issue(open_container, "alice")
    now = datetime.now(UTC)
    log_rows(db, [(me.key.id, s, now - timedelta(days=d)) for d, s in
                  ((1, 200), (1, 404), (3, 404), (3, 500), (3, 200), (45, 200))])  # fmt: skip
    await sign_in(web, me.raw_key)

    page = await web.get(f"/dashboard/keys/{me.key.id}", params={"granularity": "day"})
    counts = [int(c) for c in BAR.findall(page.text)]
    assert len(counts) == 30 and sum(counts) == 5 and sorted(counts)[-2:] == [2, 3]
    assert "5 requests in the last 30 days" in page.text
    assert '<option value="404"' in page.text

    page = await web.get(
        f"/dashboard/keys/{me.key.id}", params={"granularity": "day", "status": "404"}
    )
    assert sorted(int(c) for c in BAR.findall(page.text))[-2:] == [1, 1]
    page = await web.get(f"/dashboard/keys/{me.key.id}", params={"status": "5xx"})
    assert sum(int(c) for c in BAR.findall(page.text)) == 0  # the 500 is 3 days ago
    assert len(BAR.findall(page.text)) == 24


async def test_overview_lists_the_busiest_keys_for_admins(
    web: Client, open_container: Container, db: str
) -> None:
    admin = await issue(open_container, "root", ("read", "write", "admin"), name="ops")
    busy = await issue(open_container, "alice", name="busy")
    quiet = await issue(open_container, "bob", name="quiet")
    now = datetime.now(UTC) - timedelta(hours=1)
    log_rows(db, [(busy.key.id, s, now) for s in (200, 200, 404, 503)])
    log_rows(db, [(quiet.key.id, 200, now)])
    await sign_in(web, admin.raw_key)
    page = await web.get("/dashboard/usage")
    assert page.status_code == 200
    assert page.text.index(">busy</a>") < page.text.index(">quiet</a>")
    assert "25.0 %" in page.text
    assert (await web.get("/dashboard/usage", params={"period": "7d"})).status_code == 200


async def test_overview_is_refused_to_others(web: Client, open_container: Container) -> None:
    me = await issue(open_container, "alice")
    await sign_in(web, me.raw_key)
    assert (await web.get("/dashboard/usage")).status_code == 403
