"""Contract suites: each port's promises, held against its fake and its PostgreSQL adapter.

A suite's fixture is parametrised over BACKENDS; the fake runs in memory, the adapter
against the migrated test database (emptied first, as every database test is). A fake
that answers differently from PostgreSQL fails here, not in the unit tests that trust it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from psycopg_pool import AsyncConnectionPool

from entrypoints.container import build_container
from entrypoints.settings import Settings

BACKENDS = ["fake", "postgres"]
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nothing"


@pytest.fixture(scope="session")
async def contract_pool(database_url: str) -> AsyncIterator[AsyncConnectionPool]:
    """One pool for every postgres run, configured as the app's (entrypoints/container/root.py)."""
    container = build_container(replace(Settings(), database_url=database_url, pool_max=4))
    pool = container.pool()
    await pool.open(wait=True)
    try:
        yield pool
    finally:
        await pool.close()


# Children first. DELETE, not the TRUNCATE of the `db` fixture: these tables hold a
# handful of rows, and a suite of small tests should not pay a TRUNCATE each.
EMPTIED = (
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_events",
    "webhooks",
    "request_logs",
    "usage_status",
    "usage_status_deltas",
    "usage_latency",
    "usage_latency_deltas",
    "resources",
    "idempotency_keys",
    "quota_windows",
    "dashboard_sessions",
    "api_keys",
)


@pytest.fixture
async def pool(contract_pool: AsyncConnectionPool) -> AsyncConnectionPool:
    """The pool over the test database, emptied (asked for by the postgres runs only)."""
    async with contract_pool.connection() as conn:
        for table in EMPTIED:
            await conn.execute(f"DELETE FROM {table}")
    return contract_pool


@pytest.fixture
async def unreachable_pool() -> AsyncIterator[AsyncConnectionPool]:
    """The app's kind of pool, to a server that never answers: an outage."""
    settings = replace(Settings(), database_url=UNREACHABLE, db_timeout=0.3, pool_min=0)
    pool = build_container(settings).pool()
    await pool.open(wait=False)
    try:
        yield pool
    finally:
        await pool.close()
