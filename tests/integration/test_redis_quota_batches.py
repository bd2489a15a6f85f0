"""The Redis store's batches: decisions asked for in one turn of the loop go as one
pipeline, each still atomic, so a burst on one subject stays exact, and a Redis that is
gone fails every decision of the batch as unavailable (never a hang, never a 500)."""

from __future__ import annotations

import asyncio

import pytest

from adapters.redis.quota import RedisQuotaStore
from application.ports.errors import StoreUnavailable
from domain.quota import QuotaPolicy
from tests.support.redis import REDIS_URL, redis_prefix, redis_server


async def deployment() -> str:
    return "batches"


async def test_a_burst_on_one_subject_admits_exactly_the_limit() -> None:
    with redis_prefix() as prefix:
        store = RedisQuotaStore(REDIS_URL, deployment, timeout=5, prefix=prefix)
        policy = QuotaPolicy.of(per_hour=100, per_minute=7)
        try:
            verdicts = await asyncio.gather(*(store.decide("key:burst", policy) for _ in range(50)))
        finally:
            await store.stop()
    admitted = [v for v in verdicts if v.admitted]
    assert len(admitted) == 7
    assert sorted(v.remaining for v in admitted) == list(range(7))  # one after the other
    assert all(v.windows[0].retry_after > 0 for v in verdicts if not v.admitted)


async def test_a_batch_meets_a_stopped_redis_as_unavailable_and_the_next_one_recovers() -> None:
    with redis_server() as server:
        store = RedisQuotaStore(server.url, deployment, timeout=1, prefix="gone")
        policy = QuotaPolicy.hourly(10)
        try:
            assert (await store.decide("key:a", policy)).admitted
            server.stop()
            answers = await asyncio.gather(
                *(store.decide(f"key:{i}", policy) for i in range(5)), return_exceptions=True
            )
            assert all(isinstance(a, StoreUnavailable) for a in answers), answers
            server.start()
            assert (await store.decide("key:b", policy)).admitted
        finally:
            await store.stop()


@pytest.mark.parametrize("batch", [1, 300])
async def test_every_caller_gets_its_own_subjects_answer(batch: int) -> None:
    with redis_prefix() as prefix:
        store = RedisQuotaStore(REDIS_URL, deployment, timeout=5, prefix=prefix)
        try:
            limits = [1 + i % 5 for i in range(batch)]
            verdicts = await asyncio.gather(
                *(store.decide(f"key:own{i}", QuotaPolicy.hourly(n)) for i, n in enumerate(limits))
            )
        finally:
            await store.stop()
    assert [v.windows[0].limit for v in verdicts] == limits
    assert [v.remaining for v in verdicts] == [n - 1 for n in limits]


async def test_a_caller_gone_before_its_batch_is_sent_is_not_counted() -> None:
    with redis_prefix() as prefix:
        store = RedisQuotaStore(REDIS_URL, deployment, timeout=5, prefix=prefix)
        policy = QuotaPolicy.hourly(10)
        try:
            await store.decide("key:warm", policy)  # connected: no await before the batch
            callers = [asyncio.ensure_future(store.decide("key:gone", policy)) for _ in range(3)]
            await asyncio.sleep(0)  # every caller has asked; the batch goes at the turn's end
            callers[1].cancel()
            first, gone, last = await asyncio.gather(*callers, return_exceptions=True)
            look = await store.look("key:gone", policy)
        finally:
            await store.stop()
    assert isinstance(gone, asyncio.CancelledError)
    assert [first.remaining, last.remaining] == [9, 8]  # type: ignore[union-attr]
    assert look.remaining == 8
