from __future__ import annotations

import asyncio
import math

import psycopg
import pytest

from application.ports.errors import UnstorableValue
from domain.pagination import PageRequest, Total
from domain.resource_queries import ResourceQuery
from domain.resources import ResourceFields
from entrypoints.container import Container


async def test_updates_move_updated_at_strictly_forward(open_container: Container) -> None:
    async with open_container.uow()() as uow:
        made = await uow.resources.add(ResourceFields("a", metadata={"k": [1]}), "alice")
        first = await uow.resources.update(made.id, ResourceFields("b"))
        # Same transaction, same now(): still strictly later.
        second = await uow.resources.update(made.id, ResourceFields("c"))
    assert made.updated_at < first.updated_at < second.updated_at
    assert len({made.etag, first.etag, second.etag}) == 3
    assert second.created_at == made.created_at
    assert made.metadata == {"k": [1]}


async def test_a_failed_unit_of_work_leaves_nothing(open_container: Container) -> None:
    with pytest.raises(RuntimeError):
        async with open_container.uow()() as uow:
            await uow.resources.add(ResourceFields("gone"), "alice")
            raise RuntimeError("abort")
    rows, total = await open_container.resource_reader().list(
        ResourceQuery(PageRequest()), fetch=10
    )
    assert (list(rows), total) == ([], Total(0))


async def test_trigram_indexes_exist_exactly_when_pg_trgm_is_available(
    open_container: Container,
) -> None:
    async with open_container.pool().connection() as conn:
        available = await (
            await conn.execute(
                "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'"
            )
        ).fetchone()
        indexes = await (
            await conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'resources'"
                " AND indexname LIKE '%%trgm%%'"
            )
        ).fetchone()
    assert available is not None and indexes is not None
    assert indexes[0] == (1 if available[0] else 0)


async def test_search_treats_wildcards_and_backslash_literally(open_container: Container) -> None:
    async with open_container.uow()() as uow:
        for name in ("a%b", "a_b", "axb", "a\\b", "A\\B"):
            await uow.resources.add(ResourceFields(name), "alice")
    reader = open_container.resource_reader()
    for search, expected in (("%", {"a%b"}), ("_", {"a_b"}), ("\\", {"a\\b", "A\\B"})):
        rows, total = await reader.list(ResourceQuery(PageRequest(), search=search), fetch=10)
        assert {r.name for r in rows} == expected
        assert total == Total(len(expected))


async def test_search_folds_case_and_never_matches_across_name_and_description(
    open_container: Container,
) -> None:
    async with open_container.uow()() as uow:
        await uow.resources.add(ResourceFields("Grüße AUS Köln", description="Straße"), "alice")
        await uow.resources.add(ResourceFields("end", description="start"), "alice")
        await uow.resources.add(ResourceFields("x\x1fy", description=None), "alice")
    reader = open_container.resource_reader()
    for search, expected in (
        ("GRÜSSE", set()),  # lower(), not Unicode case folding: ß is not ss
        ("grüße aus", {"Grüße AUS Köln"}),
        ("KÖLN", {"Grüße AUS Köln"}),
        ("STRASSE", set()),
        ("straße", {"Grüße AUS Köln"}),
        ("ends", set()),  # "end" + "start" must not read as "endstart"
        ("d\x1fs", set()),  # not even with the separator in the term
        ("x\x1fy", {"x\x1fy"}),
    ):
        rows, total = await reader.list(ResourceQuery(PageRequest(), search=search), fetch=10)
        assert ({r.name for r in rows}, total) == (expected, Total(len(expected))), search


async def test_metadata_reads_back_as_stored_even_beyond_a_double(
    open_container: Container, db: str
) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        [(plain,), (huge,)] = conn.execute(
            "INSERT INTO resources (name, metadata, created_by) VALUES"
            """ ('plain', '{"s": "é\\u00e9x", "n": 12345678901234567890123, "f": 0.5}', 'a'),"""
            # jsonb keeps 1e400 as an integer; with a fraction it is a float out of range.
            """ ('huge', ('{"big": ' || repeat('9', 400) || '.5}')::jsonb, 'a') RETURNING id"""
        ).fetchall()
    reader = open_container.resource_reader()
    first = await reader.get(plain)
    assert first is not None and first.metadata == {
        "s": "ééx", "n": 12345678901234567890123, "f": 0.5
    }  # fmt: skip
    second = await reader.get(huge)
    assert second is not None and second.metadata == {"big": math.inf}


async def test_reads_by_id_in_one_loop_turn_share_one_statement(open_container: Container) -> None:
    writer, reader, pool = (
        open_container.resource_writer(),
        open_container.resource_reader(),
        open_container.pool(),
    )
    made = [await writer.add(ResourceFields(f"r{i}"), "alice") for i in range(5)]
    await reader.get(made[0].id)  # the reader's batches belong to this test's loop now
    asked = [r.id for r in made] + [made[2].id, 10**12, made[0].id]  # repeats, a missing id
    before = pool.get_stats()["requests_num"]
    got = await asyncio.gather(*(reader.get(i) for i in asked))
    assert pool.get_stats()["requests_num"] - before == 1
    assert [r.name if r else None for r in got] == ["r0", "r1", "r2", "r3", "r4", "r2", None, "r0"]
    # A change answered before the next turn's reads is what they see.
    changed = await writer.replace_owned(made[1].id, ResourceFields("changed"), None)
    assert changed is not None
    again = await asyncio.gather(reader.get(made[1].id), reader.get(made[3].id))
    assert [r.name if r else None for r in again] == ["changed", "r3"]


async def test_creates_in_one_loop_turn_share_one_statement_in_order(
    open_container: Container,
) -> None:
    writer, pool = open_container.resource_writer(), open_container.pool()
    await writer.add(ResourceFields("first"), "alice")  # batches belong to this loop now
    asked = [
        ResourceFields(f"n{i}", "d" if i % 2 else None, f"c{i % 3}" if i % 3 else None,
                       {"i": i} if i % 4 else None)
        for i in range(40)
    ]  # fmt: skip
    before = pool.get_stats()["requests_num"]
    made = await asyncio.gather(*(writer.add(f, "bob" if i % 5 else "alice")
                                  for i, f in enumerate(asked)))  # fmt: skip
    assert pool.get_stats()["requests_num"] - before == 1
    for i, (fields, resource) in enumerate(zip(asked, made, strict=True)):
        assert (resource.name, resource.description, resource.category, resource.metadata) == (
            fields.name, fields.description, fields.category, fields.metadata,
        )  # fmt: skip
        assert resource.created_by == ("bob" if i % 5 else "alice")
    assert len({r.id for r in made}) == 40
    reader = open_container.resource_reader()
    assert [(await reader.get(r.id)) for r in made] == list(made)
    _, total = await reader.list(ResourceQuery(PageRequest()), fetch=1)
    assert total == Total(41)


async def test_a_create_the_database_refuses_fails_alone_in_its_batch(
    open_container: Container,
) -> None:
    writer = open_container.resource_writer()
    await writer.add(ResourceFields("first"), "alice")
    names = ["ok-1", "bad\x00name", "ok-2"]
    outcomes = await asyncio.gather(
        *(writer.add(ResourceFields(n), "alice") for n in names), return_exceptions=True
    )
    assert isinstance(outcomes[1], UnstorableValue)
    assert [o.name for o in outcomes if not isinstance(o, BaseException)] == ["ok-1", "ok-2"]
    _, total = await open_container.resource_reader().list(ResourceQuery(PageRequest()), fetch=1)
    assert total == Total(3)


async def test_the_same_list_asked_in_one_loop_turn_runs_once(open_container: Container) -> None:
    writer, reader, pool = (
        open_container.resource_writer(),
        open_container.resource_reader(),
        open_container.pool(),
    )
    for i in range(3):
        await writer.add(ResourceFields(f"x{i}", category="a" if i else "b"), "alice")
    everything = ResourceQuery(PageRequest())
    only_a = ResourceQuery(PageRequest(), category="a")
    await reader.list(everything, fetch=10)  # the reader's batches belong to this loop now
    before = pool.get_stats()["requests_num"]
    pages = await asyncio.gather(
        *(reader.list(q, fetch=10) for q in (everything, only_a, everything, everything))
    )
    assert pool.get_stats()["requests_num"] - before == 2  # one statement per distinct list
    assert [[r.name for r in rows] for rows, _ in pages] == [
        ["x2", "x1", "x0"], ["x2", "x1"], ["x2", "x1", "x0"], ["x2", "x1", "x0"],
    ]  # fmt: skip
    assert [total for _, total in pages] == [Total(3), Total(2), Total(3), Total(3)]
    # A write answered before the next turn's lists is in them.
    await writer.add(ResourceFields("x3", category="a"), "alice")
    again = await asyncio.gather(reader.list(only_a, fetch=10), reader.list(only_a, fetch=10))
    assert [[r.name for r in rows] for rows, _ in again] == [["x3", "x2", "x1"]] * 2
