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


async def test_a_batch_of_one_subject_answers_as_the_same_takes_one_by_one(
    open_container: Container, db: str
) -> None:
    """quota_take_n (one lock, one write for a subject's batch) against n single takes
    at the same instant, from many window states: answers and stored rows agree."""
    rng = random.Random(11)
    with psycopg.connect(db, autocommit=True) as conn:
        at = T0
        for step in range(120):
            at += timedelta(seconds=rng.choice([0.5, 3, 59, 61, 900, 4000]))
            limit, n = rng.choice([1, 5, 12]), rng.choice([1, 2, 7, 15])
            batched = conn.execute(
                "SELECT * FROM quota_take_n('key:batched', %s, %s, %s)", (limit, n, at)
            ).fetchall()
            single = [
                conn.execute(
                    "SELECT * FROM quota_take('key:single', %s, %s)", (limit, at)
                ).fetchall()[0]
                for _ in range(n)
            ]
            assert batched == single, step
            states = conn.execute(
                "SELECT subject, head_minute, counts FROM quota_windows"
                " WHERE subject IN ('key:batched', 'key:single') ORDER BY subject"
            ).fetchall()
            assert states[0][1:] == states[1][1:], step
        mixed = conn.execute(
            "SELECT ord, admitted FROM quota_take_many(%s, %s)",
            (["key:a", "key:a", "key:a", "key:b", "key:b"], [2, 2, 2, 1, 1]),
        ).fetchall()
    assert mixed == [(1, True), (2, True), (3, False), (4, True), (5, False)]
