from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from application.ports.health import DatabaseProbe, QuotaStoreProbe, SchemaProbe


@dataclass(frozen=True, slots=True)
class HealthReport:
    ok: bool
    uptime_seconds: float
    version: str
    database_ok: bool


# Uptime counts from when this process loaded the code, not from the first health check.
PROCESS_STARTED = time.monotonic()


T = TypeVar("T")


class _Recent(Generic[T]):
    """`probe`'s answer, asked at most once per `max_age` seconds: load balancers poll
    health hard, and a probe per poll would compete with real work."""

    def __init__(self, probe: Callable[[], Awaitable[T]], first: T, max_age: float) -> None:
        self._probe = probe
        self._max_age = max_age
        self._checked_at = float("-inf")
        self._answer = first
        self._lock = asyncio.Lock()

    async def __call__(self) -> T:
        if time.monotonic() - self._checked_at >= self._max_age:
            async with self._lock:
                # Whoever waited for the lock may find the answer fresh already.
                if time.monotonic() - self._checked_at >= self._max_age:
                    self._answer = await self._probe()
                    self._checked_at = time.monotonic()
        return self._answer


class CheckHealth:
    """Liveness: the process answers, and whether its database does."""

    def __init__(self, probe: DatabaseProbe, version: str, max_age: float = 1.0) -> None:
        self._database = _Recent(probe.is_reachable, False, max_age)
        self._version = version

    async def __call__(self) -> HealthReport:
        database_ok = await self._database()
        return HealthReport(
            ok=database_ok,
            uptime_seconds=round(time.monotonic() - PROCESS_STARTED, 1),
            version=self._version,
            database_ok=database_ok,
        )


class ShutdownState:
    """Whether this process has begun to stop. Set by whatever receives the stop (the
    server's SIGTERM, entrypoints/lifecycle.py), at once, while requests are still served."""

    def __init__(self) -> None:
        self.stopping = False

    def begin(self) -> None:
        self.stopping = True


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    database_ok: bool
    # None: no quota store of its own is configured (the counters live in the database).
    quota_store_ok: bool | None
    # None: unknown, the database did not answer.
    migrations_current: bool | None
    stopping: bool

    @property
    def ready(self) -> bool:
        return (
            self.database_ok
            and self.quota_store_ok is not False
            and bool(self.migrations_current)
            and not self.stopping
        )


@dataclass(frozen=True, slots=True)
class _Stores:
    database_ok: bool
    quota_store_ok: bool | None
    migrations_current: bool | None


class CheckReadiness:
    """Whether a load balancer should send this process requests: its stores answer,
    its schema is there, and it is not stopping. The stores are probed at most once per
    `max_age`; a stop shows at the next poll."""

    def __init__(
        self,
        database: DatabaseProbe,
        schema: SchemaProbe,
        shutdown: ShutdownState,
        quota_store: QuotaStoreProbe | None = None,
        max_age: float = 1.0,
    ) -> None:
        self._database = database
        self._schema = schema
        self._quota_store = quota_store
        self._shutdown = shutdown
        self._stores = _Recent(self._probe, _Stores(False, None, None), max_age)

    async def _probe(self) -> _Stores:
        database_ok = await self._database.is_reachable()
        current = await self._schema.is_current() if database_ok else None
        quota_ok = None if self._quota_store is None else await self._quota_store.is_reachable()
        return _Stores(database_ok, quota_ok, current)

    async def __call__(self) -> ReadinessReport:
        stores = await self._stores()
        return ReadinessReport(
            database_ok=stores.database_ok,
            quota_store_ok=stores.quota_store_ok,
            migrations_current=stores.migrations_current,
            stopping=self._shutdown.stopping,
        )
