"""dashboard_sessions: one row per live dashboard session (migration 0012).

Checked by primary key on every page of a signed-in visitor, with no cache: a sign-out
is seen by every instance at once, for the price of one index lookup per page. The
pool (KeygatePool) turns a database that is away into StoreUnavailable."""

from __future__ import annotations

from datetime import datetime, timedelta

from psycopg_pool import AsyncConnectionPool

from domain.keys import UserId

INSERT_SESSION = """
INSERT INTO dashboard_sessions (id, user_id, expires_at) VALUES (%s, %s, now() + %s)
RETURNING expires_at
"""
SELECT_LIVE = "SELECT 1 FROM dashboard_sessions WHERE id = %s AND expires_at > now()"
DELETE_SESSION = "DELETE FROM dashboard_sessions WHERE id = %s"
DELETE_EXPIRED = "DELETE FROM dashboard_sessions WHERE expires_at <= now()"


class PostgresSessionStore:
    def __init__(self, pool: AsyncConnectionPool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    async def add(self, session_id: str, user_id: UserId, lifetime: timedelta) -> datetime:
        async with self._pool.connection(timeout=self._timeout) as conn:
            cur = await conn.execute(INSERT_SESSION, (session_id, user_id, lifetime))
            row = await cur.fetchone()
        assert row is not None
        expires_at: datetime = row[0]
        return expires_at

    async def is_live(self, session_id: str) -> bool:
        async with self._pool.connection(timeout=self._timeout) as conn:
            cur = await conn.execute(SELECT_LIVE, (session_id,))
            return await cur.fetchone() is not None

    async def end(self, session_id: str) -> None:
        async with self._pool.connection(timeout=self._timeout) as conn:
            await conn.execute(DELETE_SESSION, (session_id,))

    async def purge_expired(self) -> int:
        async with self._pool.connection(timeout=self._timeout) as conn:
            cur = await conn.execute(DELETE_EXPIRED)
            return cur.rowcount
