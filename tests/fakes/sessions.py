"""Dashboard sessions in memory, expiring by a FakeClock."""

from __future__ import annotations

from datetime import datetime, timedelta

from application.ports.clock import Clock
from domain.keys import UserId


class InMemorySessionStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.sessions: dict[str, tuple[UserId, datetime]] = {}

    async def add(self, session_id: str, user_id: UserId, lifetime: timedelta) -> datetime:
        expires_at = self._clock.now() + lifetime
        self.sessions[session_id] = (user_id, expires_at)
        return expires_at

    async def is_live(self, session_id: str) -> bool:
        found = self.sessions.get(session_id)
        return found is not None and found[1] > self._clock.now()

    async def end(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)

    async def purge_expired(self) -> int:
        now = self._clock.now()
        expired = [sid for sid, (_, expires_at) in self.sessions.items() if expires_at <= now]
        for session_id in expired:
            del self.sessions[session_id]
        return len(expired)
