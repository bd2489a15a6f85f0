from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class DatabaseProbe(Protocol):
    async def is_reachable(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class HealthReport:
    ok: bool
    uptime_seconds: float
    version: str
    database_ok: bool


class CheckHealth:
    def __init__(self, probe: DatabaseProbe, version: str) -> None:
        self._probe = probe
        self._version = version
        self._started = time.monotonic()

    async def __call__(self) -> HealthReport:
        database_ok = await self._probe.is_reachable()
        return HealthReport(
            ok=database_ok,
            uptime_seconds=round(time.monotonic() - self._started, 1),
            version=self._version,
            database_ok=database_ok,
        )
