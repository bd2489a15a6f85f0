"""The process's one connection pool and the probe that health checks use."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import psycopg
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool

_decode = msgspec.json.Decoder().decode


def json_loads(data: bytes | str) -> Any:
    """json/jsonb values from the server. msgspec's decoder is several times faster than
    the stdlib's, which every listed resource's metadata paid for; the stdlib reads what
    msgspec refuses (a number beyond a double, such as 1e400, becomes inf)."""
    try:
        return _decode(data)
    except msgspec.DecodeError:
        return json.loads(data)


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    set_json_loads(json_loads, conn)


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
        configure=_configure,
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
