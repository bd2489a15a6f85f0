"""ApiKeyRepository, KeyFinder and the unit of work: InMemoryKeys against PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.api_keys import PostgresKeyFinder
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from application.ports.errors import StoreUnavailable
from application.ports.keys import ApiKeyRepository, KeyFinder, NewKey
from application.ports.uow import UnitOfWorkFactory
from domain.keys import ApiKey, Permission
from domain.pagination import PageRequest
from tests.contract.conftest import BACKENDS
from tests.fakes import FakeClock, InMemoryKeys


@dataclass(frozen=True)
class KeyStore:
    uow: UnitOfWorkFactory
    finder: KeyFinder


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> KeyStore:
    if request.param == "fake":
        fake = InMemoryKeys(FakeClock())
        return KeyStore(fake, fake)
    pool: AsyncConnectionPool = request.getfixturevalue("pool")
    return KeyStore(PostgresUnitOfWorkFactory(pool), PostgresKeyFinder(pool))


def new_key(user: str = "alice", n: int = 0, **changes: object) -> NewKey:
    fields: dict[str, object] = {
        "user_id": user,
        "name": f"key {n}",
        "key_hash": f"{user}-hash-{n}",
        "prefix": f"rk_{n:04d}",
        "permissions": frozenset({"read"}),
        "rate_limit": 100,
    }
    return NewKey(**(fields | changes))  # type: ignore[arg-type]


async def add(store: KeyStore, *keys: NewKey) -> list[ApiKey]:
    async with store.uow() as uow:
        return [await uow.keys.add(k) for k in keys]


async def listed(
    store: KeyStore, user: str | None, page: PageRequest, after: int | None = None, fetch: int = 0
) -> tuple[list[int], int]:
    async with store.uow() as uow:
        keys, total = await uow.keys.list(user, page, after, fetch or page.limit)
    return [k.id for k in keys], total


async def test_an_added_key_comes_back_as_given(store: KeyStore) -> None:
    wanted = new_key(name="ünïcode ✓", permissions=frozenset({"read", "write", "admin"}))
    (key,) = await add(store, wanted)
    assert (key.user_id, key.name, key.prefix, key.rate_limit) == (
        "alice",
        "ünïcode ✓",
        "rk_0000",
        100,
    )
    assert key.permissions == {Permission.READ, Permission.WRITE, Permission.ADMIN}
    assert key.is_active and key.last_used_at is None and key.expires_at is None
    assert key.created_at.tzinfo is not None
    async with store.uow() as uow:
        assert await uow.keys.get(key.id) == key
    assert await store.finder.find_by_hash("alice-hash-0") == key


async def test_ids_grow_in_the_order_keys_are_added(store: KeyStore) -> None:
    keys = await add(store, *(new_key(n=n) for n in range(3)))
    (later,) = await add(store, new_key(n=3))
    ids = [k.id for k in keys] + [later.id]
    assert ids == sorted(ids) and len(set(ids)) == 4


async def test_unknown_ids_and_hashes_are_absent(store: KeyStore) -> None:
    (key,) = await add(store, new_key())
    async with store.uow() as uow:
        assert await uow.keys.get(key.id + 1000) is None
        assert await uow.keys.deactivate(key.id + 1000) is False
    assert await store.finder.find_by_hash("no such hash") is None


async def test_deactivate_answers_true_once_and_the_key_stays_findable(store: KeyStore) -> None:
    (key,) = await add(store, new_key())
    async with store.uow() as uow:
        assert await uow.keys.deactivate(key.id) is True
        assert await uow.keys.deactivate(key.id) is False
    found = await store.finder.find_by_hash("alice-hash-0")
    assert found is not None and found.id == key.id and not found.is_active


async def test_list_pages_by_offset_in_id_order_with_the_total(store: KeyStore) -> None:
    alice = await add(store, *(new_key("alice", n) for n in range(5)))
    await add(store, new_key("bob", 9))
    ids = [k.id for k in alice]
    assert await listed(store, "alice", PageRequest(1, 2)) == (ids[:2], 5)
    assert await listed(store, "alice", PageRequest(3, 2)) == (ids[4:], 5)
    assert await listed(store, "alice", PageRequest(4, 2)) == ([], 5)
    # `fetch` may ask for one more than the page, to tell whether another page follows.
    assert await listed(store, "alice", PageRequest(1, 2), fetch=3) == (ids[:3], 5)
    everyone, total = await listed(store, None, PageRequest(1, 10))
    assert total == 6 and everyone == sorted(everyone) and set(ids) < set(everyone)
    assert await listed(store, "carol", PageRequest(1, 10)) == ([], 0)


async def test_list_after_an_id_ignores_the_offset_and_still_counts_every_match(
    store: KeyStore,
) -> None:
    ids = [k.id for k in await add(store, *(new_key("alice", n) for n in range(5)))]
    assert await listed(store, "alice", PageRequest(3, 2), after=ids[1]) == (ids[2:4], 5)
    assert await listed(store, "alice", PageRequest(1, 2), after=ids[4]) == ([], 5)
    assert await listed(store, "bob", PageRequest(1, 2), after=ids[0]) == ([], 0)


async def test_a_unit_of_work_that_raises_changes_nothing(store: KeyStore) -> None:
    (kept,) = await add(store, new_key(n=1))
    with pytest.raises(RuntimeError):
        async with store.uow() as uow:
            await uow.keys.add(new_key(n=2))
            await uow.keys.deactivate(kept.id)
            raise RuntimeError("the use case failed half way")
    assert await store.finder.find_by_hash("alice-hash-2") is None
    assert await store.finder.find_by_hash("alice-hash-1") == kept
    assert await listed(store, "alice", PageRequest(1, 10)) == ([kept.id], 1)


async def test_a_unit_of_work_sees_its_own_writes(store: KeyStore) -> None:
    async with store.uow() as uow:
        repo: ApiKeyRepository = uow.keys
        key = await repo.add(new_key())
        await repo.deactivate(key.id)
        seen = await repo.get(key.id)
        assert seen is not None and not seen.is_active


@pytest.fixture(params=BACKENDS)
def down_finder(request: pytest.FixtureRequest) -> KeyFinder:
    if request.param == "fake":
        fake = InMemoryKeys(FakeClock())
        fake.unavailable = True
        return fake
    return PostgresKeyFinder(request.getfixturevalue("unreachable_pool"))


async def test_an_unreachable_finder_raises_the_ports_error(down_finder: KeyFinder) -> None:
    with pytest.raises(StoreUnavailable):
        await down_finder.find_by_hash("any")
