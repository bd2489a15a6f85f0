"""The process's one connection pool and the probe that health checks use."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import psycopg
from psycopg.conninfo import conninfo_to_dict
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


def _cut(conn: psycopg.AsyncConnection[Any]) -> None:
    """End the connection's socket under whatever waits on it: a read or write pending on
    a silent network fails at once ("server closed the connection"), and the connection,
    now broken, is discarded by the pool instead of coming back to serve again.

    Cancelling the waiting task instead would not do: psycopg answers a cancellation
    by asking the server to cancel the query and waiting for it, seconds more on a
    network that answers nothing."""
    # shutdown() acts on the socket itself, which the duplicate shares; only the
    # duplicate is closed here, libpq closes its own.
    with (
        contextlib.suppress(OSError, psycopg.Error),
        socket.socket(fileno=socket.dup(conn.fileno())) as sock,
    ):
        sock.shutdown(socket.SHUT_RDWR)


class KeygatePool(AsyncConnectionPool[psycopg.AsyncConnection[TupleRow]]):
    """The pool every adapter borrows from.

    Every use of a connection is bounded: waiting for it and everything done with it
    take at most `timeout` seconds (the pool's, DB_TIMEOUT, unless the caller names
    another), after which the connection is cut and the caller gets StoreUnavailable;
    a database that stops answering cannot hold a request longer. Background upkeep
    (bulk writes, retention) names `maintenance_timeout`: as long as the server would
    let its statements run, and the wait for a connection on top. And whatever goes
    wrong leaves as a port error (adapters.postgres.errors), never psycopg's.
    """

    maintenance_timeout: float = 60.0

    # psycopg_pool's signature, where `timeout` bounds only the wait for a connection.
    @asynccontextmanager
    async def connection(
        self,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> AsyncIterator[psycopg.AsyncConnection[TupleRow]]:
        budget = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        with translated():
            async with super().connection(budget) as conn:
                watchdog = loop.call_at(deadline, _cut, conn)
                try:
                    yield conn
                finally:
                    # Before the connection goes back: a cut must never reach the next user.
                    watchdog.cancel()

    async def wait(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        with translated():
            await super().wait(timeout)


APPLICATION_NAME = "keygate"


def application_name(conninfo: str, suffix: str = "") -> str:
    """How keygate's connections show in pg_stat_activity: as DATABASE_URL names them,
    else "keygate"; `suffix` tells a connection of another kind apart."""
    return str(conninfo_to_dict(conninfo).get("application_name") or APPLICATION_NAME) + suffix


def network_bounds(timeout: float) -> dict[str, int]:
    """libpq settings under which the kernel itself gives up on a dead network: keepalive
    probes find an idle connection whose peer is gone, and tcp_user_timeout fails one
    whose sent data stays unacknowledged past `timeout` (a partition mid-statement).
    They complement the pool's own bound, which also catches a peer that still ACKs but
    never answers (a stalled proxy, a frozen server)."""
    seconds = max(1, round(timeout))
    return {
        "keepalives": 1,
        "keepalives_idle": seconds,
        "keepalives_interval": seconds,
        "keepalives_count": 3,
        "tcp_user_timeout": seconds * 1000,
    }


def create_pool(
    conninfo: str,
    *,
    min_size: int,
    max_size: int,
    timeout: float,
    statement_timeout_ms: int,
    cursor_factory: type[psycopg.AsyncCursor[Any]] | None = None,
) -> KeygatePool:
    """A pool that is not open yet: the application's lifespan opens and closes it."""
    pool = KeygatePool(
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
            **network_bounds(timeout),
            "application_name": application_name(conninfo),
            # Tracing's, when on: a span per statement (adapters/tracing/spans.py).
            **({"cursor_factory": cursor_factory} if cursor_factory else {}),
        },
        name="keygate",
    )
    pool.maintenance_timeout = timeout + statement_timeout_ms / 1000
    return pool


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
