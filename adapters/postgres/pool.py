"""The process's one connection pool and the probe that health checks use."""

from __future__ import annotations

import psycopg
from psycopg_pool import AsyncConnectionPool


def create_pool(
    conninfo: str,
    *,
    min_size: int,
    max_size: int,
    timeout: float,
    statement_timeout_ms: int,
) -> AsyncConnectionPool:
    """A pool that is not open yet: the application's lifespan opens and closes it."""
    return AsyncConnectionPool(
        conninfo,
        min_size=min_size,
        max_size=max_size,
        timeout=timeout,
        open=False,
        kwargs={
            "autocommit": True,
            "connect_timeout": max(1, int(timeout)),
            "options": f"-c statement_timeout={statement_timeout_ms} -c TimeZone=UTC",
        },
        name="keygate",
    )


class PostgresProbe:
    def __init__(self, pool: AsyncConnectionPool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    async def is_reachable(self) -> bool:
        try:
            async with self._pool.connection(timeout=self._timeout) as conn:
                await conn.execute("SELECT 1")
        except (psycopg.Error, OSError):
            return False
        return True
