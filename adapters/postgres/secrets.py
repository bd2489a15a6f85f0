"""Secrets shared by every instance on one database (keygate_secrets, migration 0001)."""

from __future__ import annotations

import logging

from psycopg_pool import AsyncConnectionPool

from application.ports.errors import StoreError

log = logging.getLogger(__name__)

SELECT_CURSOR_SECRET = "SELECT value FROM keygate_secrets WHERE name = 'cursor'"  # noqa: S105


class PostgresSecrets:
    """The cursor signing key: configuration wins, else the one the migrations stored.
    Loaded once per process (at start when the database answers, else on first use)."""

    def __init__(self, pool: AsyncConnectionPool, override: str | None) -> None:
        self._pool = pool
        self._value = override

    async def cursor_secret(self) -> str:
        if self._value is None:
            async with self._pool.connection() as conn:
                cur = await conn.execute(SELECT_CURSOR_SECRET)
                row = await cur.fetchone()
            if row is None:
                raise StoreError("keygate_secrets has no 'cursor' row; run the migrations")
            self._value = row[0]
        return self._value

    async def start(self) -> None:
        try:
            await self.cursor_secret()
        except StoreError as exc:
            log.warning("cursor secret not loaded at start (%s); will retry", exc)

    async def stop(self) -> None:
        return None


SELECT_DEPLOYMENT = "SELECT value FROM keygate_secrets WHERE name = 'deployment'"


class PostgresDeployment:
    """This database's own id (migration 0015): what names counters kept outside it, so
    that another deployment, or this database made again, never shares them."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self._value: str | None = None

    async def __call__(self) -> str:
        if self._value is None:
            async with self._pool.connection() as conn:
                cur = await conn.execute(SELECT_DEPLOYMENT)
                row = await cur.fetchone()
            if row is None:
                raise StoreError("keygate_secrets has no 'deployment' row; run the migrations")
            self._value = str(row[0])
        return self._value
