from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from application.ports.health import DatabaseProbe


@dataclass(frozen=True, slots=True)
class HealthReport:
    ok: bool
    uptime_seconds: float
    version: str
    database_ok: bool


# Uptime counts from when this process loaded the code, not from the first health check.
PROCESS_STARTED = time.monotonic()


class CheckHealth:
    """Health with the database probed at most once per `max_age` seconds: load
    balancers poll health hard, and a probe per poll would compete with real work."""

    def __init__(self, probe: DatabaseProbe, version: str, max_age: float = 1.0) -> None:
        self._probe = probe
        self._version = version
        self._max_age = max_age
        self._checked_at = float("-inf")
        self._database_ok = False
        self._lock = asyncio.Lock()

    async def __call__(self) -> HealthReport:
        if time.monotonic() - self._checked_at >= self._max_age:
            async with self._lock:
                # Whoever waited for the lock may find the answer fresh already.
                if time.monotonic() - self._checked_at >= self._max_age:
                    self._database_ok = await self._probe.is_reachable()
                    self._checked_at = time.monotonic()
        return HealthReport(
            ok=self._database_ok,
            uptime_seconds=round(time.monotonic() - PROCESS_STARTED, 1),
            version=self._version,
            database_ok=self._database_ok,
        )
