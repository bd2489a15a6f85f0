"""The resource list statement: one shape per (sort, order, category filter, search,
cursor), built only from the constants below, and its parameters.

docs/list-statements.md shows every shape whole (tests/integration/test_list_statements.py
keeps it current).
"""

from __future__ import annotations

import functools
from typing import Any

from domain.resource_queries import ESTIMATE_ABOVE, CountMode, Order, ResourceQuery, Sort

COLUMNS = "id, name, description, category, metadata, created_by, created_at, updated_at"

# The closed set of ORDER BY keys, each with the type a cursor's value is cast to.
# Expressions match the indexes of migration 0002 exactly; a NULL category sorts as ''.
SORT_KEYS: dict[Sort, tuple[str, str]] = {
    Sort.NAME: ("name", "text"),
    Sort.CREATED_AT: ("created_at", "timestamptz"),
    Sort.CATEGORY: ("coalesce(category, '')", "text"),
}
DIRECTIONS: dict[Order, tuple[str, str]] = {Order.ASC: ("ASC", ">"), Order.DESC: ("DESC", "<")}
FILTER_CATEGORY = "category = %(category)s"
# search_text is lower(name) || chr(31) || lower(description), stored (migration 0008).
FILTER_SEARCH = r"search_text LIKE lower(%(pattern)s) ESCAPE '\'"
SEARCH_SEPARATOR = "\x1f"
# A term holding the separator could match across the two fields in search_text.
FILTER_SEARCH_FIELDS = (
    r"(name ILIKE %(pattern)s ESCAPE '\' OR description ILIKE %(pattern)s ESCAPE '\')"
)
AFTER_CURSOR = "({key}, id) {op} (%(after_value)s::{cast}, %(after_id)s)"
# Count and page in one statement: one round trip, and the count row is there even
# when the page is empty.
LIST = f"""
SELECT t.total, t.estimated, r.* FROM ({{count}}) AS t
LEFT JOIN LATERAL (
    SELECT {COLUMNS} FROM resources WHERE {{where}}{{after}}
    ORDER BY {{key}} {{direction}}, id {{direction}}
    LIMIT %(limit)s OFFSET %(offset)s
) AS r ON true
"""
COUNT_ROWS = "SELECT count(*) AS total, false AS estimated FROM resources WHERE {where}"
# Without a search the total is read from the counts the triggers of functions/counts.sql
# keep: 50 ms of count(*) at 1M rows, 5 ms for one category, against well under 1 ms.
COUNT_KEPT = (
    "SELECT coalesce(sum(n), 0)::bigint AS total, false AS estimated"
    " FROM resource_counts WHERE {where}"
)
# The planner's figure for a search (functions/resource_estimates.sql); `by_fields`
# names the filter the search uses, so the estimate is of the very same condition.
PLANNED = "resources_planned_rows(%(pattern)s, %(category)s, {by_fields})"
COUNT_PLANNED = f"SELECT {PLANNED} AS total, true AS estimated"
# Counting stops one row past ESTIMATE_ABOVE: a third of a million-row table matching a
# search costs what a thousand rows do. Above it, the planner's figure (never below
# what was counted).
COUNT_CAPPED = f"""SELECT CASE WHEN c.n > {ESTIMATE_ABOVE} THEN greatest(c.n, {PLANNED})
            ELSE c.n END AS total,
       c.n > {ESTIMATE_ABOVE} AS estimated
FROM (SELECT count(*) AS n FROM (
    SELECT 1 FROM resources WHERE {{where}} LIMIT {ESTIMATE_ABOVE + 1}) AS m) AS c"""


def count_sql(count: CountMode, where: str, search_filter: str | None) -> str:
    if not search_filter:
        return COUNT_KEPT.format(where=where)
    by_fields = "true" if search_filter is FILTER_SEARCH_FIELDS else "false"
    if count is CountMode.PLANNED:
        return COUNT_PLANNED.format(by_fields=by_fields)
    if count is CountMode.ESTIMATED:
        return COUNT_CAPPED.format(where=where, by_fields=by_fields)
    return COUNT_ROWS.format(where=where)


@functools.cache
def list_sql(
    sort: Sort,
    order: Order,
    by_category: bool,
    search_filter: str | None,
    after: bool,
    count: CountMode = CountMode.EXACT,
) -> str:
    """The list statement for one shape of query."""
    key, cast = SORT_KEYS[sort]
    if by_category and sort is Sort.CATEGORY:
        # Every row has the filtered category: the plain column is that constant, which
        # the planner drops from the ordering and serves from (category, id) -- while the
        # coalesce() form made it walk the whole category index.
        key = "category"
    direction, op = DIRECTIONS[order]
    filters = [f for f in (FILTER_CATEGORY if by_category else None, search_filter) if f]
    where = " AND ".join(filters) or "true"
    after_sql = " AND " + AFTER_CURSOR.format(key=key, op=op, cast=cast) if after else ""
    return LIST.format(
        count=count_sql(count, where, search_filter),
        where=where,
        after=after_sql,
        key=key,
        direction=direction,
    )


def search_filter(search: str | None) -> str | None:
    if not search:
        return None
    return FILTER_SEARCH_FIELDS if SEARCH_SEPARATOR in search else FILTER_SEARCH


def like_pattern(search: str) -> str:
    """A substring pattern in which the user's %, _ and \\ are literal."""
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_statement(query: ResourceQuery, fetch: int) -> tuple[str, dict[str, Any]]:
    """The statement and parameters that read `fetch` rows of the query's page, each
    row led by the total count of matches."""
    after = query.after
    sql = list_sql(
        query.sort,
        query.order,
        query.category is not None,
        search_filter(query.search),
        bool(after),
        query.count,
    )
    params = {
        "category": query.category,
        "pattern": like_pattern(query.search) if query.search else None,
        "after_value": after.value if after else None,
        "after_id": after.last_id if after else None,
        "limit": fetch,
        # PageRequest caps it below OFFSET's bigint, however far the page.
        "offset": 0 if after else query.page.offset,
    }
    return sql, params
