"""The key cache: fast, and exact under changes made by anyone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from adapters.postgres.key_cache import CachingKeyFinder
from application.keys import Authenticate
from domain.errors import Unauthenticated
from domain.keys import hash_key
from entrypoints.container import Container
from tests.fakes import FakeClock, RecordingUsage
from tests.support.keys import issue
from tests.support.waiting import eventually


class CountingFinder:
    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.calls = 0

    async def find_by_hash(self, key_hash: str):  # type: ignore[no-untyped-def]
        self.calls += 1
        return await self.inner.find_by_hash(key_hash)  # type: ignore[attr-defined]


async def issued_and_notified(container: Container):  # type: ignore[no-untyped-def]
    """A new key, once the INSERT's own notification has gone by."""
    issued = await issue(container)
    await asyncio.sleep(0.3)
    return issued


@pytest.fixture
async def cache(open_container: Container, db: str):  # type: ignore[no-untyped-def]
    counting = CountingFinder(open_container.key_finder().__dict__["_inner"])
    finder = CachingKeyFinder(counting, db)  # type: ignore[arg-type]
    await finder.start()
    assert finder.listening
    yield finder, counting
    await finder.stop()


async def test_second_lookup_makes_no_query(cache, open_container: Container) -> None:  # type: ignore[no-untyped-def]
    finder, counting = cache
    issued = await issued_and_notified(open_container)
    h = hash_key(issued.raw_key)
    assert (await finder.find_by_hash(h)).id == issued.key.id
    assert (await finder.find_by_hash(h)).id == issued.key.id
    assert counting.calls == 1


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE api_keys SET is_active = false WHERE id = %s",
        "UPDATE api_keys SET rate_limit = 5 WHERE id = %s",
        "UPDATE api_keys SET rate_limit_per_minute = 5 WHERE id = %s",
        "UPDATE api_keys SET rate_limit_per_day = 5 WHERE id = %s",
        "UPDATE api_keys SET expires_at = now() + interval '1 hour' WHERE id = %s",
        "UPDATE api_keys SET name = 'renamed' WHERE id = %s",
        "DELETE FROM api_keys WHERE id = %s",
    ],
)
async def test_an_operators_sql_reaches_the_cache(
    cache, open_container: Container, db: str, change: str
) -> None:  # type: ignore[no-untyped-def]
    finder, _ = cache
    issued = await issue(open_container)
    h = hash_key(issued.raw_key)
    before = await finder.find_by_hash(h)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(change, (issued.key.id,))

    async def changed() -> bool:
        return await finder.find_by_hash(h) != before

    await eventually(changed)


async def test_last_used_updates_do_not_evict(cache, open_container: Container, db: str) -> None:  # type: ignore[no-untyped-def]
    finder, counting = cache
    issued = await issued_and_notified(open_container)
    h = hash_key(issued.raw_key)
    await finder.find_by_hash(h)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE api_keys SET last_used_at = now() WHERE id = %s", (issued.key.id,))
    await asyncio.sleep(0.2)
    await finder.find_by_hash(h)
    assert counting.calls == 1


async def test_a_new_key_is_found_after_a_miss_was_cached(cache, open_container: Container) -> None:  # type: ignore[no-untyped-def]
    finder, _ = cache
    await finder.find_by_hash(hash_key("rk_" + "1" * 64))
    issued = await issue(open_container)

    async def found() -> bool:
        return await finder.find_by_hash(hash_key(issued.raw_key)) is not None

    await eventually(found)


async def test_losing_the_listener_drops_the_cache(
    cache, open_container: Container, db: str
) -> None:  # type: ignore[no-untyped-def]
    finder, counting = cache
    issued = await issue(open_container)
    h = hash_key(issued.raw_key)
    await finder.find_by_hash(h)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE query LIKE 'LISTEN%%' AND datname = current_database()"
        )

    async def uncached() -> bool:
        return not finder.listening

    await eventually(uncached)
    calls = counting.calls
    await finder.find_by_hash(h)
    assert counting.calls == calls + 1

    async def back() -> bool:
        return finder.listening

    await eventually(back, within=5)


async def test_a_cached_key_is_expired_from_its_instant_without_a_query_or_a_notice(
    cache, open_container: Container
) -> None:  # type: ignore[no-untyped-def]
    finder, counting = cache
    clock = FakeClock(datetime.now(UTC))
    issued = await issue(open_container, expires_at=clock.now() + timedelta(seconds=5))
    await asyncio.sleep(0.3)  # the INSERT's own notification goes by
    authenticate = Authenticate(finder, RecordingUsage(), clock)
    assert (await authenticate(issued.raw_key)).id == issued.key.id
    clock.advance(5)
    with pytest.raises(Unauthenticated, match="API key expired"):
        await authenticate(issued.raw_key)
    # The cached entry carried its expiry: nothing was asked of the database again.
    assert counting.calls == 1
