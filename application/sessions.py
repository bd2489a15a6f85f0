"""Dashboard sessions, kept on the server: started at sign-in, checked on every page,
ended at sign-out. The browser's sealed cookie only names its session; a copy of the
cookie is worth nothing once the session has ended."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports.errors import StoreUnavailable
from application.ports.sessions import SessionStore
from domain.dashboard import SESSION_LIFETIME
from domain.errors import ServiceUnavailable
from domain.keys import UserId

UNAVAILABLE = "Session service unavailable"
# 256 bits from the CSPRNG: a session id can be neither guessed nor enumerated.
SESSION_ID_BYTES = 32


@dataclass(frozen=True, slots=True)
class StartedSession:
    id: str
    expires_at: datetime


class StartSession:
    def __init__(self, store: SessionStore, lifetime: timedelta = SESSION_LIFETIME) -> None:
        self._store = store
        self._lifetime = lifetime

    async def __call__(self, user_id: UserId) -> StartedSession:
        session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
        try:
            expires_at = await self._store.add(session_id, user_id, self._lifetime)
        except StoreUnavailable:
            raise ServiceUnavailable(UNAVAILABLE) from None
        return StartedSession(session_id, expires_at)


class CheckSession:
    """Whether a session is still live; asked on every page of a signed-in visitor."""

    def __init__(self, store: SessionStore) -> None:
        self._store = store

    async def __call__(self, session_id: str | None) -> bool:
        if not session_id:
            return False
        try:
            return await self._store.is_live(session_id)
        except StoreUnavailable:
            raise ServiceUnavailable(UNAVAILABLE) from None


class EndSession:
    def __init__(self, store: SessionStore) -> None:
        self._store = store

    async def __call__(self, session_id: str | None) -> None:
        if not session_id:
            return
        try:
            await self._store.end(session_id)
        except StoreUnavailable:
            raise ServiceUnavailable(UNAVAILABLE) from None


class PurgeExpiredSessions:
    def __init__(self, store: SessionStore) -> None:
        self._store = store

    async def __call__(self) -> int:
        return await self._store.purge_expired()
