"""A TCP proxy in front of PostgreSQL that a test can cut, stall and restore: a real outage
for whoever connects through it, while everyone else keeps the database.

A cut resets every connection (the database is gone, and says so); a stall keeps them
open and forwards nothing either way, as a silent network partition does, until
`restore()` lets the held bytes through. A reply delay holds each answer of the
database a while before passing it on, so a test can cut a connection after the
database acted on a statement and before its answer reached the client.

It runs its own event loop in a thread, because the app under test may run on another
loop (Litestar's test client serves the app from a thread of its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class PostgresProxy:
    def __init__(self, database_url: str) -> None:
        self._target = conninfo_to_dict(database_url)
        self._database_url = database_url
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.up = True
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.reply_delay = 0.0

    @property
    def url(self) -> str:
        """`database_url`, reached through the proxy."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return make_conninfo(self._database_url, host="127.0.0.1", port=port)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def stall(self) -> None:
        """Keep every connection, accept new ones, forward nothing until `restore()`."""
        self._flowing.clear()

    def restore(self) -> None:
        self.up = True
        self._flowing.set()

    def cut(self) -> None:
        """Drop every open connection and refuse new ones until `restore()`."""
        self.up = False
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _open_target(self) -> Streams:
        host = str(self._target.get("host") or "127.0.0.1")
        port = int(self._target.get("port") or 5432)
        if host.startswith("/"):
            return await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
        return await asyncio.open_connection(host, port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.transport.abort()
            return
        upstream_reader, upstream_writer = await self._open_target()
        self._writers |= {writer, upstream_writer}
        try:
            await asyncio.gather(
                _pipe(reader, upstream_writer, self._flowing),
                _pipe(upstream_reader, writer, self._flowing, lambda: self.reply_delay),
            )
        finally:
            for w in (writer, upstream_writer):
                self._writers.discard(w)
                w.transport.abort()


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    flowing: asyncio.Event,
    delay: Callable[[], float] = lambda: 0.0,
) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            await flowing.wait()
            if seconds := delay():
                await asyncio.sleep(seconds)
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


class ThreadedProxy:
    """A PostgresProxy on a loop of its own; `cut()` and `restore()` from any thread."""

    def __init__(self, database_url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._proxy = PostgresProxy(database_url)

    def __enter__(self) -> ThreadedProxy:
        self._thread.start()
        self._call(self._proxy.start())
        return self

    def __exit__(self, *_: object) -> None:
        self._call(self._proxy.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    @property
    def url(self) -> str:
        return self._proxy.url

    def cut(self) -> None:
        self._loop.call_soon_threadsafe(self._proxy.cut)

    def stall(self) -> None:
        self._loop.call_soon_threadsafe(self._proxy.stall)

    def delay_replies(self, seconds: float) -> None:
        self._loop.call_soon_threadsafe(setattr, self._proxy, "reply_delay", seconds)

    def restore(self) -> None:
        self._loop.call_soon_threadsafe(self._proxy.restore)

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)


@contextlib.contextmanager
def postgres_proxy(database_url: str) -> Iterator[ThreadedProxy]:
    with ThreadedProxy(database_url) as proxy:
        yield proxy
