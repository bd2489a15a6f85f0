"""Walking every page, by page number and by cursor, returns each row exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.resources import ListParams, ListResources
from domain.keys import OPERATOR
from domain.resource_queries import Order, Sort
from entrypoints.container import Container

BASE = datetime(2026, 1, 1, tzinfo=UTC)
# Few distinct values on purpose: ties are where pages repeat or skip rows.
rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "B", "b_", "ä"]),
        st.sampled_from([None, "", "x", "y"]),
        st.integers(0, 2),
    ),
    max_size=30,
)


async def walk(list_resources: ListResources, params: ListParams, by_cursor: bool) -> list[int]:
    seen: list[int] = []
    page = 1
    cursor: str | None = None
    while True:
        if by_cursor:
            result = await list_resources(
                OPERATOR,
                ListParams(
                    None, params.limit, params.sort, params.order, params.category, None, cursor
                ),
            )
        else:
            result = await list_resources(
                OPERATOR, ListParams(page, params.limit, params.sort, params.order, params.category)
            )
        seen += [r.id for r in result.items]
        if not result.info.has_next:
            assert len(seen) == result.info.total
            return seen
        assert result.info.next_cursor
        cursor = result.info.next_cursor
        page += 1


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=rows_strategy,
    limit=st.integers(1, 7),
    sort=st.sampled_from(list(Sort)),
    order=st.sampled_from(list(Order)),
    category=st.sampled_from([None, "x", ""]),
)
async def test_every_row_exactly_once_under_every_sort_and_order(
    open_container: Container,
    rows: list[tuple[str, str | None, int]],
    limit: int,
    sort: Sort,
    order: Order,
    category: str | None,
) -> None:
    async with open_container.pool().connection() as conn:
        await conn.execute("TRUNCATE resources RESTART IDENTITY")
        for name, cat, second in rows:
            await conn.execute(
                "INSERT INTO resources (name, category, created_by, created_at, updated_at)"
                " VALUES (%s, %s, 'u', %s, %s)",
                (name, cat, BASE + timedelta(seconds=second), BASE),
            )
    expected = [i + 1 for i, (_, cat, _) in enumerate(rows) if category is None or cat == category]
    list_resources = open_container.list_resources()
    params = ListParams(None, limit, sort.value, order.value, category)
    by_page = await walk(list_resources, params, by_cursor=False)
    by_cursor = await walk(list_resources, params, by_cursor=True)
    assert sorted(by_page) == expected
    # Same total order both ways: the keyset walk is the page walk.
    assert by_cursor == by_page
