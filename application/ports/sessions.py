"""Where dashboard sessions live, so that ending one ends it for every instance."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from domain.keys import UserId


class SessionStore(Protocol):
    async def add(self, session_id: str, user_id: UserId, lifetime: timedelta) -> datetime:
        """Record a live session; the instant it expires (the store's clock decides)."""
        ...

    async def is_live(self, session_id: str) -> bool:
        """True while the session has neither ended nor expired."""
        ...

    async def end(self, session_id: str) -> None:
        """End the session at once; ending an unknown or ended session does nothing."""
        ...

    async def purge_expired(self) -> int:
        """Forget sessions past their expiry; how many were forgotten."""
        ...
