"""The sink's database goes away under load and comes back: every buffered row arrives."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from litestar.testing import AsyncTestClient

from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.logs import logged_rows
from tests.support.tcp_proxy import postgres_proxy

OUTAGE_SECONDS = 3.0


async def test_rows_buffered_during_an_outage_are_written_when_it_ends(
    settings: Settings, db: str
) -> None:
    with postgres_proxy(db) as proxy:
        # The app's database is behind the proxy; 404s without a key need no database,
        # so they keep being served (and logged) while it is away.
        container = build_container(replace(settings, database_url=proxy.url, db_timeout=0.5))
        app = create_asgi(container)
        async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:  # type: ignore[arg-type]
            sink = container.request_log_sink()
            for i in range(20):
                await client.get(f"/api/before/{i}")
            assert len(await logged_rows(db, 20, settle=0)) == 20

            proxy.cut()
            during = 0
            ends = time.monotonic() + OUTAGE_SECONDS
            while time.monotonic() < ends:
                answers = await asyncio.gather(
                    *(client.get(f"/api/during/{during + j}") for j in range(10))
                )
                assert {a.status_code for a in answers} == {404}
                during += 10
                await asyncio.sleep(0.02)
            assert len(await logged_rows(db, 20, settle=0)) == 20, "the outage was not real"
            assert sink.pending > 0
            proxy.restore()

            rows = await logged_rows(db, 20 + during, within=20)

    paths = sorted(r["path"] for r in rows)
    expected = [f"/api/before/{i}" for i in range(20)] + [f"/api/during/{i}" for i in range(during)]
    assert paths == sorted(expected)
    assert sink.dropped == 0
    assert during >= 100
