"""What the health and readiness checks probe."""

from __future__ import annotations

from typing import Protocol


class DatabaseProbe(Protocol):
    async def is_reachable(self) -> bool: ...


class QuotaStoreProbe(Protocol):
    """A quota store kept apart from the database (Redis): whether it answers."""

    async def is_reachable(self) -> bool: ...


class SchemaProbe(Protocol):
    async def is_current(self) -> bool:
        """Whether every migration this code ships is applied; False when that cannot
        be read. A database ahead of the code (a newer instance migrated it during a
        rolling upgrade) is current: this code finds everything it needs there."""
        ...
