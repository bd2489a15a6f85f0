"""The list's query parameters and the `Prefer: count=...` preference (RFC 7240)."""

from __future__ import annotations

from typing import Annotated

from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter, QueryParameter

from domain.resource_queries import SEARCH_MAX, CountMode, Order, Sort
from domain.resources import CATEGORY_MAX
from entrypoints.http.openapi import NO_NUL

CategoryFilter = Annotated[
    str | None,
    QueryParameter(
        max_length=CATEGORY_MAX, description="Exact category", schema_extra={"pattern": NO_NUL}
    ),
]
Search = Annotated[
    str | None,
    QueryParameter(
        max_length=SEARCH_MAX,
        description="Case-insensitive substring of name or description",
        schema_extra={"pattern": NO_NUL},
    ),
]
# Typed as str so the domain's error names the allowed values; the enum is still in
# the document.
SortBy = Annotated[
    str | None,
    QueryParameter(
        description="Sort key (default created_at)",
        schema_extra={"enum": [s.value for s in Sort]},
    ),
]
Direction = Annotated[
    str | None,
    QueryParameter(
        description="Direction (default desc)", schema_extra={"enum": [o.value for o in Order]}
    ),
]
Prefer = Annotated[
    str | None,
    HeaderParameter(
        name="Prefer",
        description="`count=exact`, `count=planned` or `count=estimated` (counted up to "
        "1,000 matches, the planner's estimate above); other preferences are ignored",
    ),
]
PREFERENCE_APPLIED_HEADER = ResponseHeader(
    name="Preference-Applied",
    description="`count=<mode>`: how pagination.total was found",
    documentation_only=True,
)


def count_preference(prefer: str | None) -> str | None:
    """The `count` preference of a Prefer header (`return=minimal, count=planned`), or
    None. Preferences are case-insensitive and may carry parameters after ';'."""
    if not prefer:
        return None
    for item in prefer.split(","):
        name, _, value = item.split(";", 1)[0].partition("=")
        if name.strip().lower() == "count":
            return value.strip().strip('"').lower() or None
    return None


def preference_applied(mode: CountMode) -> dict[str, str]:
    return {"Preference-Applied": f"count={mode.value}"}
