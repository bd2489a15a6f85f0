"""SessionStore: InMemorySessionStore against PostgresSessionStore."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.postgres.sessions import PostgresSessionStore
from application.ports.sessions import SessionStore
from tests.contract.conftest import BACKENDS
from tests.fakes import FakeClock, InMemorySessionStore

HOURS_8 = timedelta(hours=8)
# A session whose expiry has already passed when it is written: what 8 hours later is.
PAST = timedelta(seconds=-1)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> SessionStore:
    if request.param == "fake":
        return InMemorySessionStore(FakeClock())
    return PostgresSessionStore(request.getfixturevalue("pool"), timeout=5)


async def test_a_session_lives_until_it_is_ended(store: SessionStore) -> None:
    first = await store.add("s1", "alice", HOURS_8)
    assert first.tzinfo is not None
    await store.add("s2", "alice", HOURS_8)
    assert await store.is_live("s1") and await store.is_live("s2")
    assert not await store.is_live("unknown")
    await store.end("s1")
    await store.end("s1")  # ending twice, or an unknown session, does nothing
    await store.end("unknown")
    assert not await store.is_live("s1")
    assert await store.is_live("s2")


async def test_an_expired_session_is_not_live_and_is_purged(store: SessionStore) -> None:
    await store.add("old", "alice", PAST)
    await store.add("new", "bob", HOURS_8)
    assert not await store.is_live("old")
    assert await store.purge_expired() == 1
    assert await store.purge_expired() == 0
    assert await store.is_live("new")
