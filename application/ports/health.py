"""What the health check probes."""

from __future__ import annotations

from typing import Protocol


class DatabaseProbe(Protocol):
    async def is_reachable(self) -> bool: ...
