"""A real `keygate serve` whose database goes silent (a partition: connections stay
open, nothing comes back): requests get 503 with Retry-After instead of hanging, the
connections the silence held are discarded, and service resumes when it ends."""

from __future__ import annotations

import asyncio

import httpx
import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from entrypoints.container import Container
from tests.support.keys import bearer, issue
from tests.support.logs import logged_rows
from tests.support.servers import running_server
from tests.support.tcp_proxy import postgres_proxy
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

# One pooled connection, which every request during the silence meets, and little
# background work to hold it instead: the requests themselves meet the silence.
SERVER = {
    "WORKERS": "1",
    "DB_TIMEOUT": "1",
    "DB_STATEMENT_TIMEOUT_MS": "1000",
    "DB_POOL_MIN": "1",
    "DB_POOL_MAX": "1",
    "WEBHOOK_DISPATCH_IN_SERVE": "false",
    "LAST_USED_INTERVAL": "3600",
}
# The silence outlasts the longest bound on any use of a connection (background upkeep:
# DB_TIMEOUT + the statement timeout), so whoever held the connection has let it go.
SILENCE = 4
# Far beyond DB_TIMEOUT: only a request that hangs for the silence's length reaches it.
HANG = 30


NAME = "keygate-under-silence"


def pool_backends(db: str) -> set[int]:
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (NAME,)
        ).fetchall()
    return {row[0] for row in rows}


async def test_a_silent_database_is_a_503_and_its_connections_are_dropped(
    db: str, open_container: Container
) -> None:
    key = await issue(open_container)
    with (
        postgres_proxy(db) as proxy,
        running_server(make_conninfo(proxy.url, application_name=NAME), SERVER) as server,
    ):
        async with httpx.AsyncClient(
            base_url=server.url, timeout=HANG, headers=bearer(key)
        ) as http:
            assert (await http.get("/api/resources")).status_code == 200
            await logged_rows(db, 1)  # its log row is written: the connection is idle
            held = pool_backends(db)
            assert held

            proxy.stall()
            during = await asyncio.gather(
                http.get("/api/resources"),
                http.post("/api/resources", json={"name": "in the silence"}),
                http.get("/api/keys"),
            )
            for response in during:
                assert response.status_code == 503, response.text
                assert int(response.headers["retry-after"]) >= 1
                assert response.json()["error"]
            await asyncio.sleep(SILENCE)

            proxy.restore()
            await eventually(lambda: not held & pool_backends(db), within=HANG)

            async def serving() -> bool:
                return (await http.get("/api/resources")).status_code == 200

            await eventually(serving, within=HANG, every=0.5)
    with psycopg.connect(db) as conn:
        written = conn.execute("SELECT count(*) FROM resources").fetchone()
    assert written == (0,), "a 503 must not have created anything"
