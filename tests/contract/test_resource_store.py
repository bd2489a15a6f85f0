"""ResourceReader, ResourceWriter and the unit of work's ResourceRepository:
InMemoryResources against the PostgreSQL adapters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.resources import PostgresResourceReader, PostgresResourceWriter
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from application.ports.resources import ResourceReader, ResourceWriter
from application.ports.uow import UnitOfWorkFactory
from domain.pagination import PageRequest, Total
from domain.resource_queries import CountMode, Cursor, Order, ResourceQuery, Sort, sort_value
from domain.resources import Resource, ResourceFields
from tests.contract.conftest import BACKENDS
from tests.fakes import FakeClock, InMemoryUnitOfWork


@dataclass(frozen=True)
class ResourceStore:
    uow: UnitOfWorkFactory
    reader: ResourceReader
    writer: ResourceWriter
    # Time passes between two statements: by itself in PostgreSQL, by hand in the fake.
    tick: Callable[[], None]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> ResourceStore:
    if request.param == "fake":
        clock = FakeClock()
        fake = InMemoryUnitOfWork(clock)
        return ResourceStore(fake, fake.resources, fake.resources, lambda: clock.advance(0.001))
    pool: AsyncConnectionPool = request.getfixturevalue("pool")
    return ResourceStore(
        PostgresUnitOfWorkFactory(pool),
        PostgresResourceReader(pool),
        PostgresResourceWriter(pool),
        lambda: None,
    )


METADATA = {"k": [1, 2.5, True, None, "ü"], "deep": {"n": -(10**30)}, "": {}}


async def add(store: ResourceStore, *rows: tuple[str, str | None], by: str = "alice") -> list[int]:
    ids = []
    for name, category in rows:
        store.tick()
        ids.append((await store.writer.add(ResourceFields(name, None, category), by)).id)
    return ids


async def page_ids(store: ResourceStore, query: ResourceQuery) -> tuple[list[int], int]:
    rows, total = await store.reader.list(query, query.page.limit)
    assert not total.estimated  # the default mode counts
    return [r.id for r in rows], total.count


async def test_an_added_resource_reads_back_as_written(store: ResourceStore) -> None:
    fields = ResourceFields("ünïcode ✓", "a description", "docs", METADATA)
    added = await store.writer.add(fields, "alice")
    assert (added.fields, added.created_by) == (fields, "alice")
    assert added.created_at == added.updated_at and added.created_at.tzinfo is not None
    assert await store.reader.get(added.id) == added
    assert await store.reader.get(added.id + 1000) is None
    bare = await store.writer.add(ResourceFields("bare"), "bob")
    assert bare.fields == ResourceFields("bare", None, None, None) and bare.id > added.id


async def test_replace_and_delete_touch_only_the_owners_rows(store: ResourceStore) -> None:
    (mine,) = await add(store, ("mine", None))
    before = await store.reader.get(mine)
    assert before is not None
    new = ResourceFields("renamed", "d", "c", {"a": 1})
    assert await store.writer.replace_owned(mine, new, "bob") is None
    assert await store.writer.replace_owned(mine + 1000, new, None) is None
    assert await store.reader.get(mine) == before
    store.tick()
    replaced = await store.writer.replace_owned(mine, new, "alice")
    assert replaced is not None and replaced.fields == new
    assert replaced.created_at == before.created_at and replaced.updated_at > before.updated_at
    again = await store.writer.replace_owned(mine, new, None)  # None: any owner (admin)
    assert again is not None and again.updated_at > replaced.updated_at
    assert await store.writer.delete_owned(mine, "bob") is False
    assert await store.writer.delete_owned(mine, "alice") is True
    assert await store.writer.delete_owned(mine, None) is False
    assert await store.reader.get(mine) is None


async def test_the_repository_changes_commit_with_the_unit_of_work(store: ResourceStore) -> None:
    a, b = await add(store, ("a", None), ("b", None))
    async with store.uow() as uow:
        locked = await uow.resources.get_for_update(a)
        assert locked is not None and locked.name == "a"
        assert await uow.resources.get_for_update(a + 1000) is None
        updated = await uow.resources.update(a, ResourceFields("a2"))
        assert updated.updated_at > locked.updated_at
        await uow.resources.delete(b)
        created = await uow.resources.add(ResourceFields("c"), "carol")
    assert await store.reader.get(a) == updated
    assert await store.reader.get(b) is None
    assert await store.reader.get(created.id) == created


async def test_a_unit_of_work_that_raises_changes_nothing_and_uses_up_its_ids(
    store: ResourceStore,
) -> None:
    a, b = await add(store, ("a", None), ("b", None))
    before = [await store.reader.get(a), await store.reader.get(b)]
    with pytest.raises(RuntimeError):
        async with store.uow() as uow:
            await uow.resources.update(a, ResourceFields("changed"))
            await uow.resources.delete(b)
            lost = await uow.resources.add(ResourceFields("lost"), "alice")
            raise RuntimeError("the use case failed half way")
    assert [await store.reader.get(a), await store.reader.get(b)] == before
    assert await store.reader.get(lost.id) is None
    (after,) = await add(store, ("after", None))
    assert after > lost.id  # an id is never handed out twice (cursors rely on it)


ROWS = [("beta", "x"), ("Alpha", None), ("alpha", "y"), ("beta", None), ("gamma", "x")]
ROWS += [("ä umlaut", "x"), ("100%_sure", "y"), ("back\\slash", None)]


def expected_order(rows: list[Resource], sort: Sort, order: Order) -> list[int]:
    """The contract: by the sort key (a missing category counts as ''), ties by id, both
    in the same direction; strings in code point order (the test database is C.UTF-8)."""
    keyed = sorted(rows, key=lambda r: (sort_value(r, sort), r.id))
    if sort is Sort.CREATED_AT:
        keyed = sorted(rows, key=lambda r: (r.created_at, r.id))
    ids = [r.id for r in keyed]
    return ids[::-1] if order is Order.DESC else ids


@pytest.mark.parametrize("sort", list(Sort))
@pytest.mark.parametrize("order", list(Order))
async def test_lists_are_totally_ordered_and_paged_alike_by_offset_and_cursor(
    store: ResourceStore, sort: Sort, order: Order
) -> None:
    ids = await add(store, *ROWS)
    rows = [r for r in [await store.reader.get(i) for i in ids] if r is not None]
    wanted = expected_order(rows, sort, order)
    by_offset: list[int] = []
    for page in range(1, 5):
        got, total = await page_ids(store, ResourceQuery(PageRequest(page, 3), sort, order))
        assert total == len(ROWS)
        by_offset += got
    assert by_offset == wanted
    by_cursor, after = [], None
    while True:
        query = ResourceQuery(PageRequest(1, 3), sort, order, after=after)
        page_rows, total = await store.reader.list(query, 3)
        assert total == Total(len(ROWS))
        if not page_rows:
            break
        by_cursor += [r.id for r in page_rows]
        last = page_rows[-1]
        after = Cursor(sort, order, sort_value(last, sort), last.id, None, None)
    assert by_cursor == wanted


@pytest.mark.parametrize(
    ("category", "search", "names"),
    [
        ("x", None, ["beta", "gamma", "ä umlaut"]),
        (None, "ALPHA", ["Alpha", "alpha"]),
        (None, "Ä", ["ä umlaut"]),
        (None, "%", ["100%_sure"]),
        (None, "_", ["100%_sure"]),
        (None, "\\", ["back\\slash"]),
        ("y", "alp", ["alpha"]),
        (None, "nothing", []),
        ("", None, []),
    ],
)
async def test_filters_match_alike(
    store: ResourceStore, category: str | None, search: str | None, names: list[str]
) -> None:
    await add(store, *ROWS)
    query = ResourceQuery(PageRequest(1, 50), Sort.NAME, Order.ASC, category, search)
    rows, total = await store.reader.list(query, 50)
    assert sorted(r.name for r in rows) == sorted(names) and total == Total(len(names))


async def test_search_reads_the_description_too(store: ResourceStore) -> None:
    await store.writer.add(ResourceFields("plain", "Has A Needle inside"), "alice")
    await store.writer.add(ResourceFields("other", None), "alice")
    query = ResourceQuery(PageRequest(1, 10), search="needle")
    rows, total = await store.reader.list(query, 10)
    assert [r.name for r in rows] == ["plain"] and total == Total(1)


@pytest.mark.parametrize(
    ("count", "estimated"),
    [(CountMode.EXACT, False), (CountMode.ESTIMATED, False), (CountMode.PLANNED, True)],
)
async def test_a_search_total_is_marked_as_the_mode_found_it(
    store: ResourceStore, count: CountMode, estimated: bool
) -> None:
    """Few matches: `estimated` counts them; `planned` is the planner's figure, whatever
    it is, and says so. The rows are the same in every mode."""
    await add(store, *ROWS)
    query = ResourceQuery(PageRequest(1, 50), Sort.NAME, Order.ASC, search="a", count=count)
    rows, total = await store.reader.list(query, 50)
    assert total.estimated is estimated
    if not estimated:
        assert total.count == len(rows)
    exact, _ = await store.reader.list(replace(query, count=CountMode.EXACT), 50)
    assert [r.id for r in rows] == [r.id for r in exact]


async def test_a_page_past_the_end_is_empty_with_the_total(store: ResourceStore) -> None:
    await add(store, *ROWS[:2])
    assert await page_ids(store, ResourceQuery(PageRequest(10**12, 20))) == ([], 2)
