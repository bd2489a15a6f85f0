"""What every controller reads the same way: the caller, path ids and paging."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.params import QueryParameter

from domain.errors import NotFound, Unauthenticated
from domain.keys import ApiKey
from domain.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE
from entrypoints.http.context import context_of

MAX_ID = 2**31 - 1
# A response holding a raw key or secret: no cache may keep it.
NO_STORE = {"Cache-Control": "no-store"}
# The upper bound of a page is the domain's to refuse (page_request), in its own words.
Page = Annotated[
    int | None,
    QueryParameter(
        ge=1, description="Page number, from 1 (default 1)", schema_extra={"maximum": MAX_PAGE}
    ),
]
Limit = Annotated[
    int | None,
    QueryParameter(
        ge=1, description=f"Page size (default {DEFAULT_LIMIT}); above {MAX_LIMIT} is capped"
    ),
]


def caller_of(request: Request[Any, Any, Any]) -> ApiKey:
    """The authenticated key; the use case decides what it may do."""
    key = context_of(request.scope).api_key
    if key is None:  # the outer layer authenticates these routes; this is a safety net
        raise Unauthenticated("Missing Authorization header")
    return key


def checked_id(value: int, what: str) -> int:
    """Ids are positive int32: anything else cannot exist."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"{what} not found")
    return value
