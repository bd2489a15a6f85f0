"""IdempotencyStore: InMemoryIdempotency against the PostgreSQL store, each inside the
unit of work whose create it guards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.uow import PostgresUnitOfWorkFactory
from application.ports.idempotency import IdempotentReplay
from application.ports.uow import UnitOfWorkFactory
from domain.resources import Resource, ResourceFields
from tests.contract.conftest import BACKENDS
from tests.fakes import FakeClock, InMemoryUnitOfWork

DAY = timedelta(hours=24)
# A record that is already past its expiry when written: what a day later looks like.
EXPIRED = timedelta(seconds=-1)


@pytest.fixture(params=BACKENDS)
def uow(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    if request.param == "fake":
        return InMemoryUnitOfWork(FakeClock())
    pool: AsyncConnectionPool = request.getfixturevalue("pool")
    return PostgresUnitOfWorkFactory(pool)


async def claim(uow: UnitOfWorkFactory, key: str, fingerprint: str, ttl: timedelta = DAY) -> bool:
    async with uow() as work:
        return await work.idempotency.claim("alice", key, fingerprint, ttl)


async def create_guarded(uow: UnitOfWorkFactory, key: str, fingerprint: str) -> Resource:
    async with uow() as work:
        assert await work.idempotency.claim("alice", key, fingerprint, DAY)
        created = await work.resources.add(ResourceFields("guarded", None, None, {"a": 1}), "alice")
        await work.idempotency.complete("alice", key, created)
    return created


async def existing(uow: UnitOfWorkFactory, user: str, key: str) -> IdempotentReplay:
    async with uow() as work:
        return await work.idempotency.existing(user, key)


async def test_a_completed_key_replays_the_resource_it_created(uow: UnitOfWorkFactory) -> None:
    created = await create_guarded(uow, "k1", "fp-1")
    assert await claim(uow, "k1", "fp-1") is False
    assert await existing(uow, "alice", "k1") == IdempotentReplay("fp-1", created)
    # Another body under the same key is told apart by its fingerprint.
    assert await claim(uow, "k1", "fp-2") is False
    assert (await existing(uow, "alice", "k1")).fingerprint == "fp-1"


async def test_a_claimed_but_unfinished_key_has_no_resource_yet(uow: UnitOfWorkFactory) -> None:
    assert await claim(uow, "k1", "fp-1") is True
    assert await claim(uow, "k1", "fp-1") is False
    assert await existing(uow, "alice", "k1") == IdempotentReplay("fp-1", None)


async def test_keys_belong_to_their_user(uow: UnitOfWorkFactory) -> None:
    await create_guarded(uow, "shared", "fp-alice")
    async with uow() as work:
        assert await work.idempotency.claim("bob", "shared", "fp-bob", DAY) is True
    replay = await existing(uow, "bob", "shared")
    assert replay == IdempotentReplay("fp-bob", None)


async def test_an_expired_key_may_be_claimed_afresh(uow: UnitOfWorkFactory) -> None:
    assert await claim(uow, "k1", "fp-old", EXPIRED) is True
    assert await claim(uow, "k1", "fp-new") is True
    assert await existing(uow, "alice", "k1") == IdempotentReplay("fp-new", None)
    assert await claim(uow, "k1", "fp-new") is False


async def test_a_claim_rolled_back_with_its_create_leaves_no_record(uow: UnitOfWorkFactory) -> None:
    with pytest.raises(RuntimeError):
        async with uow() as work:
            assert await work.idempotency.claim("alice", "k1", "fp-1", DAY)
            raise RuntimeError("the create failed")
    assert await claim(uow, "k1", "fp-2") is True
