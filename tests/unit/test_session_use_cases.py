"""Dashboard sessions' use cases on an in-memory store: start, check, end, expire."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.ports.errors import StoreUnavailable
from application.sessions import (
    CheckSession,
    EndSession,
    PurgeExpiredSessions,
    StartSession,
)
from domain.dashboard import SESSION_LIFETIME
from domain.errors import ServiceUnavailable
from tests.fakes import FakeClock, InMemorySessionStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> InMemorySessionStore:
    return InMemorySessionStore(clock)


async def test_a_started_session_is_live_until_it_ends(
    store: InMemorySessionStore, clock: FakeClock
) -> None:
    started = await StartSession(store)("ada")
    assert started.expires_at == clock.now() + SESSION_LIFETIME
    check = CheckSession(store)
    assert await check(started.id)
    await EndSession(store)(started.id)
    assert not await check(started.id)


async def test_sessions_get_unguessable_ids_of_their_own(store: InMemorySessionStore) -> None:
    start = StartSession(store)
    ids = {(await start("ada")).id for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) >= 43 for i in ids)  # 32 random bytes, base64url


async def test_ending_one_session_leaves_the_users_others(store: InMemorySessionStore) -> None:
    start, check = StartSession(store), CheckSession(store)
    first, second = await start("ada"), await start("ada")
    await EndSession(store)(first.id)
    assert not await check(first.id) and await check(second.id)


async def test_no_session_id_is_no_session(store: InMemorySessionStore) -> None:
    assert not await CheckSession(store)(None)
    assert not await CheckSession(store)("")
    await EndSession(store)(None)  # nothing to end, and no error


async def test_a_session_expires_and_is_purged(
    store: InMemorySessionStore, clock: FakeClock
) -> None:
    short = await StartSession(store, lifetime=timedelta(minutes=1))("ada")
    long = await StartSession(store)("ada")
    clock.advance(60)
    assert not await CheckSession(store)(short.id)
    assert await PurgeExpiredSessions(store)() == 1
    assert list(store.sessions) == [long.id]


class AwayStore(InMemorySessionStore):
    async def is_live(self, session_id: str) -> bool:
        raise StoreUnavailable("away")

    async def end(self, session_id: str) -> None:
        raise StoreUnavailable("away")


async def test_a_store_away_is_service_unavailable(clock: FakeClock) -> None:
    store = AwayStore(clock)
    with pytest.raises(ServiceUnavailable):
        await CheckSession(store)("some-id")
    with pytest.raises(ServiceUnavailable):
        await EndSession(store)("some-id")
