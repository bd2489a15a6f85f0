"""One quota rule, every store: random sequences of decisions and looks (several
windows, credits set and topped up, refills, a controlled clock) give the answers of
the Python model (domain/quota.py) on each store."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
import redis

from adapters.postgres.quota import PostgresQuotaStore
from adapters.redis.quota import RedisQuotaStore
from domain.credits import DAILY, MONTHLY, CreditRule, Refill
from domain.quota import QuotaPolicy, QuotaState, Verdict, decide
from tests.support.redis import REDIS_URL, RedisCluster, redis_cluster, redis_prefix

T0 = datetime(2026, 1, 30, 22, 0, 0, tzinfo=UTC)
STEPS = [0.1, 0.4, 1, 3, 30, 59, 61, 900, 3599, 3700, 40000, 86400, 86400 * 9]


class TimedStore(Protocol):
    async def decide(self, subject: str, policy: QuotaPolicy, now: datetime) -> Verdict: ...

    async def look(self, subject: str, policy: QuotaPolicy, now: datetime) -> Verdict: ...


@pytest.fixture(scope="session")
def cluster() -> Iterator[RedisCluster]:
    with redis_cluster() as started:
        yield started


@pytest.fixture(params=["postgres", "redis", "redis-cluster"])
def store(request: pytest.FixtureRequest) -> Iterator[TimedStore]:
    if request.param == "postgres":
        yield PostgresQuotaStore(request.getfixturevalue("pool"), timeout=5)
        return
    url = request.getfixturevalue("cluster").url if request.param == "redis-cluster" else REDIS_URL
    with redis_prefix(url) as prefix:
        yield RedisQuotaStore(url, deployment, timeout=5, prefix=prefix)


async def deployment() -> str:
    return "contract"


def random_policy(rng: random.Random, at: datetime, credits: CreditRule | None) -> QuotaPolicy:
    if rng.random() < 0.05:  # an admin sets (or tops up, or removes) the credits
        refill = rng.choice([None, Refill(DAILY, rng.randint(0, 4)), Refill(MONTHLY, 6)])
        set_at = int(at.timestamp() * 1e6)
        credits = rng.choice([None, CreditRule(set_at, rng.randint(0, 6), refill)])
    return QuotaPolicy.of(
        per_hour=rng.choice([4, 9]),
        per_minute=rng.choice([None, 2, 3]),
        per_day=rng.choice([None, 6, 20]),
        credits=credits,
    )


@pytest.mark.parametrize("seed", range(4))
async def test_every_answer_is_the_models(store: TimedStore, seed: int) -> None:
    rng = random.Random(seed)
    states: dict[str, QuotaState | None] = {}
    credits: dict[str, CreditRule | None] = {}
    at = T0
    for step in range(400):
        at += timedelta(seconds=rng.choice(STEPS))
        subject = rng.choice([f"key:rule{seed}a", f"key:rule{seed}b"])
        policy = random_policy(rng, at, credits.get(subject))
        credits[subject] = policy.credits
        spend = rng.random() < 0.85
        state, expected = decide(states.get(subject), policy, at.timestamp(), spend=spend)
        if spend:
            states[subject] = state
            got = await store.decide(subject, policy, at)
        else:
            got = await store.look(subject, policy, at)
        assert got == expected, (step, subject, policy)


async def test_a_stale_copy_of_the_credits_cannot_undo_a_top_up(store: TimedStore) -> None:
    old = QuotaPolicy.of(100, credits=CreditRule(int(T0.timestamp() * 1e6), 1))
    new = QuotaPolicy.of(100, credits=CreditRule(int(T0.timestamp() * 1e6) + 1, 5))
    assert (await store.decide("key:topup", old, T0)).credits_remaining == 0
    assert (await store.decide("key:topup", new, T0)).credits_remaining == 4
    assert (await store.decide("key:topup", old, T0)).credits_remaining == 3


async def test_a_clock_behind_the_last_decision_keeps_the_stored_buckets(
    store: TimedStore,
) -> None:
    """Processes' clocks (or a database's, after a failover) may disagree a little."""
    policy = QuotaPolicy.of(per_hour=3, per_minute=2, per_day=10)
    state = None
    for at in (T0 + timedelta(seconds=200), T0 + timedelta(seconds=100), T0):
        state, expected = decide(state, policy, at.timestamp())
        assert await store.decide("key:clock", policy, at) == expected


async def test_on_a_cluster_subjects_spread_over_the_nodes_and_each_stays_whole(
    cluster: RedisCluster,
) -> None:
    store = RedisQuotaStore(cluster.url, deployment, timeout=5, prefix="spread")
    policy = QuotaPolicy.of(per_hour=3, per_minute=2)
    try:
        for i in range(24):
            for _ in range(3):
                await store.decide(f"key:spread{i}", policy, T0)
            assert (await store.look(f"key:spread{i}", policy, T0)).remaining == 0
    finally:
        await store.stop()
    found: list[str] = []
    holders = 0
    for port in cluster.ports:
        with redis.Redis(port=port) as node:
            keys = [k.decode() for k in node.scan_iter(match="spread:*")]
        found += keys
        holders += bool(keys)
    assert len(found) == 24  # one hash per subject: its windows and credits in one slot
    assert holders >= 2
