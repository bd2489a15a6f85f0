"""The per-category resource counts' upkeep (functions/counts.sql)."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool


class PostgresResourceCounts:
    """Folds the count deltas that writes append into one row per category, so that
    reading a total stays a sum over a handful of rows."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def compact(self) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute("SELECT resource_counts_compact()")
            row = await cur.fetchone()
        return int(row[0]) if row else 0
