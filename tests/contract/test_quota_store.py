"""QuotaStore: InMemoryQuotaStore and PostgresQuotaStore give the same decisions."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.quota import PostgresQuotaStore
from application.ports.errors import StoreUnavailable
from domain.quota import QuotaDecision, Window, take
from tests.contract.conftest import BACKENDS
from tests.fakes import FakeClock, InMemoryQuotaStore

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class TimedStore(Protocol):
    """The port, plus a way to say when a take happens: the fake reads its clock, the
    adapter is told the instant its SQL function would otherwise read from the server."""

    async def take(self, subject: str, limit: int) -> QuotaDecision: ...

    async def take_at(self, subject: str, limit: int, at: datetime) -> QuotaDecision: ...


class TimedFake(InMemoryQuotaStore):
    def __init__(self) -> None:
        self.clock = FakeClock(T0)
        super().__init__(self.clock)

    async def take_at(self, subject: str, limit: int, at: datetime) -> QuotaDecision:
        self.clock.current = at
        return await self.take(subject, limit)


class TimedPostgres(PostgresQuotaStore):
    async def take_at(self, subject: str, limit: int, at: datetime) -> QuotaDecision:
        return await self.take(subject, limit, now=at)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> TimedStore:
    if request.param == "fake":
        return TimedFake()
    return TimedPostgres(request.getfixturevalue("pool"), timeout=5)


async def test_every_decision_follows_the_domain_arithmetic(store: TimedStore) -> None:
    rng = random.Random(3)
    window: Window | None = None
    at = T0
    for step in range(300):
        at += timedelta(seconds=rng.choice([0.2, 1, 7, 59, 61, 600, 1800]))
        limit = rng.choice([3, 12])
        window, expected = take(window, limit, at.timestamp())
        assert await store.take_at("key:trace", limit, at) == expected, step


async def test_admits_up_to_the_limit_then_says_when_to_retry(store: TimedStore) -> None:
    admitted = [await store.take_at("key:1", 3, T0 + timedelta(seconds=10 * i)) for i in range(3)]
    assert [(d.admitted, d.limit, d.remaining, d.retry_after) for d in admitted] == [
        (True, 3, 2, 0),
        (True, 3, 1, 0),
        (True, 3, 0, 3640),  # none left: the next one waits for the first minute to leave
    ]
    refused = await store.take_at("key:1", 3, T0 + timedelta(seconds=100))
    assert (refused.admitted, refused.remaining, refused.retry_after) == (False, 0, 3560)
    assert refused.reset_after >= refused.retry_after
    later = T0 + timedelta(seconds=100 + refused.retry_after)
    assert (await store.take_at("key:1", 3, later)).admitted


async def test_a_refused_take_is_not_counted(store: TimedStore) -> None:
    await store.take_at("key:1", 1, T0)
    for i in range(5):
        assert not (await store.take_at("key:1", 1, T0 + timedelta(seconds=i))).admitted
    # Once the first request leaves the window, the refusals left nothing behind.
    again = await store.take_at("key:1", 1, T0 + timedelta(seconds=3660))
    assert (again.admitted, again.remaining) == (True, 0)


async def test_subjects_are_counted_apart(store: TimedStore) -> None:
    assert (await store.take_at("key:1", 1, T0)).admitted
    assert not (await store.take_at("key:1", 1, T0)).admitted
    assert (await store.take_at("key:2", 1, T0)).admitted
    assert (await store.take_at("ip:key:1", 1, T0)).admitted


async def test_a_lower_limit_refuses_what_a_higher_one_admitted(store: TimedStore) -> None:
    """The limit is the caller's at each take (a key's limit may change between requests)."""
    for _ in range(3):
        await store.take_at("key:1", 10, T0)
    assert not (await store.take_at("key:1", 3, T0)).admitted
    assert (await store.take_at("key:1", 4, T0)).remaining == 0


async def test_concurrent_takes_never_exceed_the_limit(store: TimedStore) -> None:
    results = await asyncio.gather(*(store.take("key:race", 20) for _ in range(60)))
    assert sum(r.admitted for r in results) == 20
    assert sorted(r.remaining for r in results if r.admitted) == list(range(20))


@pytest.fixture(params=BACKENDS)
def down(request: pytest.FixtureRequest) -> TimedStore:
    if request.param == "fake":
        fake = TimedFake()
        fake.unavailable = True
        return fake
    pool: AsyncConnectionPool = request.getfixturevalue("unreachable_pool")
    return TimedPostgres(pool, timeout=0.3)


async def test_an_unreachable_store_raises_the_ports_error(down: TimedStore) -> None:
    with pytest.raises(StoreUnavailable):
        await down.take("key:1", 10)
    with pytest.raises(StoreUnavailable):
        await down.take_at("key:1", 10, T0)


async def test_an_unreachable_store_fails_every_caller_of_a_batch(down: TimedStore) -> None:
    answers = await asyncio.gather(
        *(down.take(f"key:{i % 3}", 10) for i in range(7)), return_exceptions=True
    )
    assert all(isinstance(a, StoreUnavailable) for a in answers), answers
