"""The process's one connection pool and the probe that health checks use."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import psycopg
from psycopg.rows import TupleRow
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.errors import translated
from application.ports.errors import StoreError

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


class KeygatePool(AsyncConnectionPool[psycopg.AsyncConnection[TupleRow]]):
    """The pool every adapter borrows from: whatever goes wrong while a connection is
    borrowed or used leaves as a port error (adapters.postgres.errors), never psycopg's."""

    # The signature is psycopg_pool's: `timeout` is how long to wait for a connection.
    @asynccontextmanager
    async def connection(
        self,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> AsyncIterator[psycopg.AsyncConnection[TupleRow]]:
        with translated():
            async with super().connection(timeout) as conn:
                yield conn

    async def wait(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        with translated():
            await super().wait(timeout)


def create_pool(
    conninfo: str,
    *,
    min_size: int,
    max_size: int,
    timeout: float,
    statement_timeout_ms: int,
) -> KeygatePool:
    """A pool that is not open yet: the application's lifespan opens and closes it."""
    return KeygatePool(
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
        except StoreError:
            return False
        return True
