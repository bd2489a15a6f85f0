"""The totals kept by the triggers of functions/counts.sql agree with count(*) whatever writes."""

from __future__ import annotations

import asyncio
import random

import psycopg

from adapters.postgres.resource_counts import PostgresResourceCounts
from domain.pagination import PageRequest, Total
from domain.resource_queries import ResourceQuery
from entrypoints.container import Container

CATEGORIES = ["a", "b", "c", None]


def kept_and_counted(db: str) -> tuple[dict[str | None, int], dict[str | None, int]]:
    with psycopg.connect(db) as conn:
        kept = conn.execute(
            "SELECT category, sum(n) FROM resource_counts GROUP BY 1 HAVING sum(n) <> 0"
        ).fetchall()
        counted = conn.execute("SELECT category, count(*) FROM resources GROUP BY 1").fetchall()
    return {c: int(n) for c, n in kept}, {c: int(n) for c, n in counted}


async def writer(db: str, seed: int) -> None:
    rng = random.Random(seed)
    async with await psycopg.AsyncConnection.connect(db, autocommit=True) as conn:
        for _ in range(60):
            action = rng.random()
            category = rng.choice(CATEGORIES)
            if action < 0.5:
                # Several rows in one statement: one delta per category it touched.
                await conn.execute(
                    "INSERT INTO resources (name, category, created_by)"
                    " SELECT 'r', (ARRAY['a','b',NULL])[1 + g %% 3], 'w'"
                    " FROM generate_series(1, %s) g",
                    (rng.randint(1, 5),),
                )
            elif action < 0.75:
                await conn.execute(
                    "UPDATE resources SET category = %s WHERE id IN"
                    " (SELECT id FROM resources ORDER BY random() LIMIT 3)",
                    (category,),
                )
            elif action < 0.9:
                await conn.execute(
                    "DELETE FROM resources WHERE id IN"
                    " (SELECT id FROM resources ORDER BY random() LIMIT 2)"
                )
            else:
                async with conn.transaction():  # a rolled-back write leaves no delta
                    await conn.execute(
                        "INSERT INTO resources (name, category, created_by) VALUES ('x', 'c', 'w')"
                    )
                    await conn.execute("SELECT 1/0")


async def test_concurrent_writes_and_compactions_keep_every_category_exact(
    open_container: Container, db: str
) -> None:
    counts = PostgresResourceCounts(open_container.pool())

    async def compactor() -> None:
        for _ in range(20):
            await counts.compact()
            await asyncio.sleep(0.01)

    results = await asyncio.gather(
        *(writer(db, seed) for seed in range(4)), compactor(), compactor(), return_exceptions=True
    )
    assert all(r is None or isinstance(r, psycopg.errors.DivisionByZero) for r in results)
    kept, counted = kept_and_counted(db)
    assert counted and kept == counted
    await counts.compact()
    kept_after, _ = kept_and_counted(db)
    assert kept_after == counted
    with psycopg.connect(db) as conn:
        rows = conn.execute("SELECT count(*) FROM resource_counts").fetchone()
    assert rows is not None and rows[0] == len(counted)  # one row per category left


async def test_list_totals_read_the_kept_counts(open_container: Container, db: str) -> None:
    with psycopg.connect(db) as conn:
        conn.execute(
            "INSERT INTO resources (name, category, created_by)"
            " SELECT 'r' || g, CASE WHEN g <= 7 THEN 'a' END, 'w' FROM generate_series(1, 10) g"
        )
        # Counts are what the list reports, so a wrong delta would show as a wrong total.
        conn.execute("INSERT INTO resource_counts VALUES ('a', 100)")
    reader = open_container.resource_reader()
    _, by_category = await reader.list(ResourceQuery(PageRequest(), category="a"), fetch=5)
    _, everything = await reader.list(ResourceQuery(PageRequest()), fetch=5)
    _, searched = await reader.list(ResourceQuery(PageRequest(), search="r1"), fetch=5)
    # A search still counts rows (exact is the mode a query is made with).
    assert (by_category, everything, searched) == (Total(107), Total(110), Total(2))
    assert {type(t.count) for t in (by_category, everything, searched)} == {int}


async def test_truncate_empties_the_counts(db: str) -> None:
    with psycopg.connect(db) as conn:
        conn.execute("INSERT INTO resources (name, category, created_by) VALUES ('r', 'a', 'w')")
        conn.execute("TRUNCATE resources CASCADE")
        left = conn.execute("SELECT count(*) FROM resource_counts").fetchone()
    assert left == (0,)
