"""What only the PostgreSQL quota store promises: one small row per subject, batches
across processes. The answers both stores give are in tests/contract/test_quota_store.py."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import psycopg

from adapters.postgres.quota import PostgresQuotaStore
from entrypoints.container import Container

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def store(container: Container) -> PostgresQuotaStore:
    return container.quota_store()


async def test_state_is_one_small_row_per_subject(open_container: Container, db: str) -> None:
    pg = store(open_container)
    for i in range(200):
        await pg.take("key:1", 1000, now=T0 + timedelta(minutes=i))
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT array_length(counts, 1) FROM quota_windows WHERE subject = 'key:1'"
        ).fetchall()
    assert rows == [(61,)]


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
