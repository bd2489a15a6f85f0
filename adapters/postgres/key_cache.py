"""An in-process cache of verified keys, kept exact by LISTEN/NOTIFY.

The api_keys triggers NOTIFY every change authentication depends on. Entries are
served only while this process is listening: when the listening connection is
lost the cache is dropped and every lookup goes to the database until it is back.
An entry is the whole key, its expiresAt included, and Authenticate judges it against
the clock on every request: a key expires here at its instant with nothing announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import psycopg

from adapters.postgres.pool import application_name
from application.ports.keys import KeyFinder
from domain.keys import ApiKey

log = logging.getLogger(__name__)

CHANNEL = "keygate_api_keys"
RECONNECT_DELAY = 1.0


class CachingKeyFinder:
    def __init__(self, inner: KeyFinder, conninfo: str, max_entries: int = 100_000) -> None:
        self._inner = inner
        self._conninfo = conninfo
        self._max_entries = max_entries
        # None records a hash known not to exist; an INSERT notifies it away.
        self._entries: dict[str, ApiKey | None] = {}
        self._generation = 0
        self._listening = False
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @property
    def listening(self) -> bool:
        return self._listening

    async def find_by_hash(self, key_hash: str) -> ApiKey | None:
        if self._listening and key_hash in self._entries:
            return self._entries[key_hash]
        generation = self._generation
        key = await self._inner.find_by_hash(key_hash)
        # A notification that arrived during the lookup may concern this very row.
        if self._listening and generation == self._generation:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[key_hash] = key
        return key

    async def start(self, wait: float = 2.0) -> None:
        self._task = asyncio.create_task(self._listen_forever(), name="key-cache-listener")
        # Serving uncached until listening is correct, only slower: do not wait long.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), wait)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            # A listener stuck closing its connection must not hold up shutdown.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), 2.0)
            self._task = None
        self._forget_all()

    def _forget_all(self) -> None:
        self._listening = False
        self._generation += 1
        self._entries.clear()

    def forget_ids(self, key_ids: Sequence[int]) -> None:
        """Evict keys by id at once (revocations made by this very process)."""
        doomed = set(key_ids)
        self._generation += 1
        for key_hash, key in list(self._entries.items()):
            if key is not None and key.id in doomed:
                del self._entries[key_hash]

    def _invalidate(self, payload: str) -> None:
        self._generation += 1
        if payload == "*":
            self._entries.clear()
        else:
            self._entries.pop(payload, None)

    async def _listen_forever(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo,
                    application_name=application_name(self._conninfo, "-key-cache"),
                    autocommit=True,
                    connect_timeout=5,
                    keepalives=1,
                    keepalives_idle=5,
                    keepalives_interval=2,
                    keepalives_count=3,
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._forget_all()
                    self._listening = True
                    self._ready.set()
                    async for notify in conn.notifies():
                        self._invalidate(notify.payload)
            except (psycopg.Error, OSError) as exc:
                log.warning("key cache listener lost (%s); serving uncached", type(exc).__name__)
            finally:
                self._forget_all()
            await asyncio.sleep(RECONNECT_DELAY)
