"""Quota leases (issue 18): far from its limits a key's admissions are counted in the
database a block at a time and handed out by the worker that holds the block. Two
stores stand for two worker processes; a third, that never decides, reads the
database's count with `look`."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from adapters.postgres.quota import PostgresQuotaStore
from adapters.postgres.quota_lease import FIRST_WANT
from domain.credits import CreditRule
from domain.quota import QuotaPolicy
from entrypoints.container import Container

HOURLY = QuotaPolicy.hourly(100_000)
CREDITS = CreditRule(int(time.time() * 1e6), 2500)


def stores(container: Container, n: int) -> list[PostgresQuotaStore]:
    return [PostgresQuotaStore(container.pool(), timeout=10) for _ in range(n)]


async def left(store: PostgresQuotaStore, subject: str, policy: QuotaPolicy) -> list[int]:
    verdict = await store.look(subject, policy)
    return [w.remaining for w in verdict.windows]


async def test_far_from_the_limit_a_lease_is_counted_at_once_and_given_back(
    open_container: Container,
) -> None:
    worker, reader = stores(open_container, 2)
    first = await worker.decide("key:lease", HOURLY)
    # The worker's answer counts only its own admissions; the database counts the lease.
    assert first.windows[0].remaining == 99_999
    assert await left(reader, "key:lease", HOURLY) == [100_000 - 1 - FIRST_WANT]
    answers = [await worker.decide("key:lease", HOURLY) for _ in range(10)]
    assert [a.windows[0].remaining for a in answers] == list(range(99_998, 99_988, -1))
    assert all(a.admitted and a.windows[0].retry_after == 0 for a in answers)
    assert all(1 <= a.windows[0].reset_after <= 3660 for a in answers)
    assert await left(reader, "key:lease", HOURLY) == [100_000 - 1 - FIRST_WANT]  # no statement
    await worker.return_all()
    assert await left(reader, "key:lease", HOURLY) == [100_000 - 11]


async def test_near_the_limit_every_request_is_decided_in_the_database(
    open_container: Container,
) -> None:
    worker, reader = stores(open_container, 2)
    policy = QuotaPolicy.hourly(1000)  # 999 left: 1/64 of it is under the least lease
    await worker.decide("key:near", policy)
    assert await left(reader, "key:near", policy) == [999]


@pytest.mark.parametrize(
    "policy",
    [
        QuotaPolicy.hourly(3000),
        QuotaPolicy.of(100_000, per_minute=2000, per_day=1_000_000),
    ],
    ids=["hour", "minute-hour-day"],
)
async def test_leases_across_two_workers_never_admit_more_than_the_limit(
    open_container: Container, policy: QuotaPolicy
) -> None:
    a, b, reader = stores(open_container, 3)
    limit = min(w.limit for w in policy.windows)
    rng = random.Random(18)
    admitted = refused = 0
    for _ in range(16):  # waves: leases made in one are used, renewed or refused in the next
        n = rng.randint(150, 600)
        verdicts = await asyncio.gather(
            *(rng.choice((a, b)).decide("key:two", policy) for _ in range(n))
        )
        admitted += sum(v.admitted for v in verdicts)
        refused += sum(not v.admitted for v in verdicts)
        assert admitted <= limit
        for v in verdicts:
            if v.admitted:
                assert all(w.remaining >= 0 for w in v.windows)
    await a.return_all()
    await b.return_all()
    look = await reader.look("key:two", policy)
    # Nothing leased is left counted: the database holds exactly what was admitted.
    assert [w.limit - w.remaining for w in look.windows] == [admitted] * len(policy.windows)
    # Refused only once what was admitted and what two leases held reached the limit.
    assert refused and admitted >= limit - 2 * (limit // 64)


async def test_a_lease_ends_with_its_bucket_and_what_is_left_goes_back(
    open_container: Container,
) -> None:
    worker, reader = stores(open_container, 2)
    policy = QuotaPolicy.of(1_000_000, per_minute=100_000)  # minute buckets are 1 s long
    await worker.decide("key:expiry", policy)
    assert (await left(reader, "key:expiry", policy))[0] == 100_000 - 1 - FIRST_WANT
    await asyncio.sleep(1.1)
    await worker.return_expired()
    assert await left(reader, "key:expiry", policy) == [100_000 - 1, 1_000_000 - 1]
    after = await worker.decide("key:expiry", policy)  # a new lease, from the database
    assert [w.remaining for w in after.windows] == [100_000 - 2, 1_000_000 - 2]


async def test_a_changed_policy_gives_the_old_lease_back(open_container: Container) -> None:
    worker, reader = stores(open_container, 2)
    raised = QuotaPolicy.hourly(200_000)
    await worker.decide("key:changed", HOURLY)
    second = await worker.decide("key:changed", raised)
    assert second.windows[0].remaining == 200_000 - 2
    assert await left(reader, "key:changed", raised) == [200_000 - 2 - FIRST_WANT]
    await worker.return_all()
    assert await left(reader, "key:changed", raised) == [200_000 - 2]


async def test_a_metered_key_is_never_leased(open_container: Container) -> None:
    """N credits admit exactly N requests however they race: every one is decided in
    the database, none waits in another worker's lease."""
    worker, reader = stores(open_container, 2)
    policy = QuotaPolicy.of(100_000, credits=CreditRule(CREDITS.version, 10_000))
    answers = [await worker.decide("key:credits", policy) for _ in range(5)]
    assert [a.credits_remaining for a in answers] == [9999, 9998, 9997, 9996, 9995]
    look = await reader.look("key:credits", policy)
    assert (look.credits_remaining, look.windows[0].remaining) == (9995, 99_995)
