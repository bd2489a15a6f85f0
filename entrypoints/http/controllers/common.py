"""What every controller reads the same way: the caller and path ids."""

from __future__ import annotations

from typing import Any

from litestar import Request

from domain.errors import NotFound, Unauthenticated
from domain.keys import ApiKey
from entrypoints.http.context import context_of

MAX_ID = 2**31 - 1
# A response holding a raw key or secret: no cache may keep it.
NO_STORE = {"Cache-Control": "no-store"}


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
