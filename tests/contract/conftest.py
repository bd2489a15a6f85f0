"""Contract suites: each port's promises, held against its fake and its PostgreSQL adapter.

A suite's fixture is parametrised over BACKENDS; the fake runs in memory, the adapter
against the migrated test database (emptied first, as every database test is). A fake
that answers differently from PostgreSQL fails here, not in the unit tests that trust it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from psycopg_pool import AsyncConnectionPool

from entrypoints.container import Container

BACKENDS = ["fake", "postgres"]
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nothing"


@pytest.fixture
def pool(request: pytest.FixtureRequest) -> AsyncConnectionPool:
    """The app's pool, open, over the emptied test database (only the postgres runs ask)."""
    container: Container = request.getfixturevalue("open_container")
    return container.pool()


@pytest.fixture
async def unreachable_pool() -> AsyncIterator[AsyncConnectionPool]:
    """A pool whose server never answers: what an adapter meets in an outage."""
    pool = AsyncConnectionPool(
        UNREACHABLE, min_size=0, max_size=1, timeout=0.3, open=False, kwargs={"connect_timeout": 1}
    )
    await pool.open(wait=False)
    try:
        yield pool
    finally:
        await pool.close()
