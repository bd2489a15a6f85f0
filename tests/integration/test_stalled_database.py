"""A database that goes silent (a partition: connections stay open, nothing comes back)
holds no use of the pool past its timeout, and the connections it held are discarded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.postgres.pool import KeygatePool, create_pool
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from application.ports.errors import StoreUnavailable
from tests.support.tcp_proxy import ThreadedProxy, postgres_proxy

TIMEOUT = 0.5
# Far beyond TIMEOUT: only a test whose call hangs ever reaches it.
HANG = 30


@pytest.fixture
def proxy(db: str) -> ThreadedProxy:
    with postgres_proxy(db) as proxy:
        yield proxy  # type: ignore[misc]


@pytest.fixture
async def pool(proxy: ThreadedProxy) -> AsyncIterator[KeygatePool]:
    pool = create_pool(
        proxy.url, min_size=1, max_size=1, timeout=TIMEOUT, statement_timeout_ms=60_000
    )
    await pool.open(wait=True)
    try:
        yield pool
    finally:
        proxy.restore()
        await pool.close()


async def test_a_statement_on_a_silent_database_fails_within_the_timeout(
    pool: KeygatePool, proxy: ThreadedProxy
) -> None:
    async with pool.connection() as conn:
        await conn.execute("SELECT 1")
    proxy.stall()
    with pytest.raises(StoreUnavailable):
        async with asyncio.timeout(HANG), pool.connection() as conn:
            await conn.execute("SELECT 1")
    assert conn.closed
    assert pool.get_stats().get("returns_bad", 0) == 1


async def test_a_transaction_on_a_silent_database_fails_within_the_timeout(
    pool: KeygatePool, proxy: ThreadedProxy
) -> None:
    uow = PostgresUnitOfWorkFactory(pool)
    with pytest.raises(StoreUnavailable):
        async with asyncio.timeout(HANG), uow() as work:
            await work.keys.get(1)
            proxy.stall()
            await work.keys.get(2)


async def test_waiting_for_a_connection_counts_against_the_same_timeout(
    pool: KeygatePool, proxy: ThreadedProxy
) -> None:
    proxy.stall()

    async def use() -> None:
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")

    # One connection, three users: the first holds it until it is cut, the others wait
    # for it (or for a new one the silent network never completes) in the same budget.
    async with asyncio.timeout(HANG):
        results = await asyncio.gather(use(), use(), use(), return_exceptions=True)
    assert all(isinstance(r, StoreUnavailable) for r in results), results


async def test_after_the_silence_the_pool_serves_on_fresh_connections(
    pool: KeygatePool, proxy: ThreadedProxy
) -> None:
    async with pool.connection() as conn:
        before = (await (await conn.execute("SELECT pg_backend_pid()")).fetchone() or [0])[0]
    proxy.stall()
    with pytest.raises(StoreUnavailable):
        async with asyncio.timeout(HANG), pool.connection() as conn:
            await conn.execute("SELECT 1")
    proxy.restore()
    await pool.check()
    async with pool.connection(timeout=HANG) as conn:
        after = (await (await conn.execute("SELECT pg_backend_pid()")).fetchone() or [0])[0]
    assert after != before
