from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import psycopg

from adapters.postgres.quota import PostgresQuotaStore
from domain.quota import Window, take
from entrypoints.container import Container

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def store(container: Container) -> PostgresQuotaStore:
    return container.quota_store()


async def test_matches_the_domain_arithmetic_step_by_step(open_container: Container) -> None:
    """The SQL function and domain/quota.py (which the fake uses) agree on every answer."""
    pg = store(open_container)
    rng = random.Random(3)
    window: Window | None = None
    at = T0
    for _ in range(400):
        at += timedelta(seconds=rng.choice([0.2, 1, 7, 59, 61, 600, 1800]))
        window, expected = take(window, 12, at.timestamp())
        actual = await pg.take("key:contract", 12, now=at)
        assert actual == expected, at


async def test_state_is_one_small_row_per_subject(open_container: Container, db: str) -> None:
    pg = store(open_container)
    for i in range(200):
        await pg.take("key:1", 1000, now=T0 + timedelta(minutes=i))
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT array_length(counts, 1) FROM quota_windows WHERE subject = 'key:1'"
        ).fetchall()
    assert rows == [(61,)]


async def test_concurrent_takes_never_exceed_the_limit(open_container: Container) -> None:
    pg = store(open_container)
    results = await asyncio.gather(*(pg.take("key:race", 20) for _ in range(60)))
    assert sum(r.admitted for r in results) == 20
    assert sorted(r.remaining for r in results if r.admitted) == list(range(20))


async def test_retry_after_then_admitted(open_container: Container) -> None:
    pg = store(open_container)
    for i in range(3):
        assert (await pg.take("key:retry", 3, now=T0 + timedelta(seconds=10 * i))).admitted
    refused = await pg.take("key:retry", 3, now=T0 + timedelta(seconds=100))
    assert not refused.admitted and refused.retry_after == 3560
    later = T0 + timedelta(seconds=100 + refused.retry_after)
    assert (await pg.take("key:retry", 3, now=later)).admitted


async def test_batches_from_many_processes_stay_exact_per_subject(
    open_container: Container,
) -> None:
    """Two stores stand for two worker processes: each sends the takes of one loop turn
    as one statement, over many subjects locked in one order (no deadlock)."""
    stores = [
        PostgresQuotaStore(open_container.pool(), timeout=10),
        PostgresQuotaStore(open_container.pool(), timeout=10),
    ]
    subjects = [f"key:batch-{i}" for i in range(7)]
    rng = random.Random(5)
    calls = [(rng.choice(stores), rng.choice(subjects)) for _ in range(700)]
    results = await asyncio.gather(*(s.take(subject, 15) for s, subject in calls))
    admitted: dict[str, list[int]] = {subject: [] for subject in subjects}
    for (_, subject), decision in zip(calls, results, strict=True):
        if decision.admitted:
            admitted[subject].append(decision.remaining)
    assert {s: sorted(r) for s, r in admitted.items()} == {s: list(range(15)) for s in subjects}
