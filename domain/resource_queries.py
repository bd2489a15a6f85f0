"""Resource list queries: sort, order, filters, and the signed cursors of keyset paging."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from domain.errors import FieldError, InvalidInput
from domain.pagination import PageRequest, SignedCursors, cursor_error, page_with_cursor
from domain.resources import CATEGORY_MAX, Resource
from domain.storable import storable_text

SEARCH_MAX = 200


class Sort(enum.StrEnum):
    NAME = "name"
    CREATED_AT = "created_at"
    CATEGORY = "category"


class Order(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


class CountMode(enum.StrEnum):
    """How a list's total is found (`Prefer: count=...`, as PostgREST names them)."""

    EXACT = "exact"  # every match counted
    PLANNED = "planned"  # the query planner's estimate
    ESTIMATED = "estimated"  # counted up to ESTIMATE_ABOVE matches, the planner's above


# Above this many matches an `estimated` total stops counting.
ESTIMATE_ABOVE = 1000


def count_mode(preferred: str | None, search: str | None) -> CountMode:
    """The mode a list runs in. Without a search the kept per-category counts answer
    exactly at the cost of an estimate, so every mode is exact there; with one, counting
    every match is what made searches slow, so `estimated` is the default. A preference
    this server does not know is ignored, as RFC 7240 asks."""
    if not search:
        return CountMode.EXACT
    try:
        return CountMode(preferred) if preferred else CountMode.ESTIMATED
    except ValueError:
        return CountMode.ESTIMATED


def sort_value(resource: Resource, sort: Sort) -> str:
    """The row's key under `sort`, as the list query orders it (NULL category as '')."""
    if sort is Sort.NAME:
        return resource.name
    if sort is Sort.CATEGORY:
        return resource.category or ""
    return resource.created_at.isoformat()


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the previous page ended, and the query it belongs to."""

    sort: Sort
    order: Order
    value: str
    last_id: int
    category: str | None
    search: str | None


@dataclass(frozen=True, slots=True)
class ResourceQuery:
    page: PageRequest
    sort: Sort = Sort.CREATED_AT
    order: Order = Order.DESC
    category: str | None = None
    search: str | None = None
    # With a cursor, page.page is ignored: rows start after the cursor's row.
    after: Cursor | None = None
    count: CountMode = CountMode.EXACT


def _choice(enum_type: type[Sort] | type[Order], name: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_type)
        raise InvalidInput(
            f"Invalid query parameter '{name}'",
            [FieldError(name, f"must be one of: {allowed}")],
        ) from None


def _check_filters(category: str | None, search: str | None) -> None:
    for param, text in (("category", category), ("search", search)):
        if text is not None and not storable_text(text):
            raise InvalidInput(
                f"Invalid query parameter '{param}'",
                [FieldError(param, "must not contain NUL or unpaired surrogates")],
            )
    if search is not None and len(search) > SEARCH_MAX:
        raise InvalidInput(
            "Invalid query parameter 'search'",
            [FieldError("search", f"must be at most {SEARCH_MAX} characters")],
        )
    if category is not None and len(category) > CATEGORY_MAX:
        raise InvalidInput(
            "Invalid query parameter 'category'",
            [FieldError("category", f"must be at most {CATEGORY_MAX} characters")],
        )


def resource_query(
    page_request: PageRequest,
    *,
    page_given: bool,
    sort: str | None,
    order: str | None,
    category: str | None,
    search: str | None,
    cursor: Cursor | None,
    cursor_given: bool = False,
) -> ResourceQuery:
    """The list query. With a cursor, unstated sort/order/filters default to the
    cursor's and stated ones must agree; `cursor_given` says one was sent undecoded."""
    sort_choice: Sort | None = _choice(Sort, "sort", sort)
    order_choice: Order | None = _choice(Order, "order", order)
    _check_filters(category, search)
    if cursor is None:
        if page_given and cursor_given:
            raise page_with_cursor()
        return ResourceQuery(
            page=page_request,
            sort=sort_choice or Sort.CREATED_AT,
            order=order_choice or Order.DESC,
            category=category,
            search=search or None,
        )
    if page_given:
        raise page_with_cursor()
    stated = (sort_choice, order_choice, category, search or None)
    issued = (cursor.sort, cursor.order, cursor.category, cursor.search)
    if any(
        mine is not None and mine != theirs for mine, theirs in zip(stated, issued, strict=True)
    ):
        raise cursor_error("was issued for a different sort, order, category or search")
    return ResourceQuery(
        page=PageRequest(1, page_request.limit),
        sort=cursor.sort,
        order=cursor.order,
        category=cursor.category,
        search=cursor.search,
        after=cursor,
    )


class CursorCodec(SignedCursors):
    """Resource cursors: sort, order, the last row's sort value and id, and filters."""

    def encode(self, cursor: Cursor) -> str:
        return self.seal(
            [
                cursor.sort.value,
                cursor.order.value,
                cursor.value,
                cursor.last_id,
                cursor.category,
                cursor.search,
            ]
        )

    def decode(self, token: str) -> Cursor:
        items = self.open(token)
        try:
            sort, order, value, last_id, category, search = items
            cursor = Cursor(Sort(sort), Order(order), value, last_id, category, search)
        except (ValueError, TypeError):
            raise cursor_error() from None
        if not (
            isinstance(cursor.value, str)
            and type(cursor.last_id) is int
            and all(v is None or isinstance(v, str) for v in (cursor.category, cursor.search))
        ):
            raise cursor_error()
        return cursor

    def after(self, query: ResourceQuery, last: Resource) -> str:
        return self.encode(
            Cursor(
                query.sort,
                query.order,
                sort_value(last, query.sort),
                last.id,
                query.category,
                query.search,
            )
        )
