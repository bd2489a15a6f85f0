"""What every controller reads the same way: the caller, where it calls from, path ids
and paging.

Path ids and paging numbers arrive as text and are read here strictly: Litestar's own
int conversion takes '1_0', '+1', '01', Arabic-Indic digits, '1e3' and '1.0' as
numbers, so that one row would have many names and a limit many spellings.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Request
from litestar.params import PathParameter, QueryParameter

from domain.audit import Origin, Via
from domain.errors import FieldError, InvalidInput, NotFound, Unauthenticated
from domain.keys import ApiKey
from domain.pagination import (
    DEFAULT_LIMIT,
    LIMIT_RULE,
    MAX_LIMIT,
    PAGE_RULE,
    PageRequest,
    page_request,
)
from entrypoints.http.context import context_of
from entrypoints.http.openapi import CURSOR_PATTERN, CURSOR_RULES

MAX_ID = 2**31 - 1
# A response holding a raw key or secret: no cache may keep it.
NO_STORE = {"Cache-Control": "no-store"}
CANONICAL_ID = re.compile(r"[1-9][0-9]{0,9}")
DIGITS = re.compile(r"[0-9]+")
# Python refuses to read longer digit strings (int_max_str_digits); no page is that far.
MAX_DIGITS = 4000


def caller_of(request: Request[Any, Any, Any]) -> ApiKey:
    """The authenticated key; the use case decides what it may do."""
    key = context_of(request.scope).api_key
    if key is None:  # the outer layer authenticates these routes; this is a safety net
        raise Unauthenticated("Missing Authorization header", reason="missing")
    return key


def origin_of(request: Request[Any, Any, Any], via: Via = Via.API) -> Origin:
    """What the audit log notes of where a change came from."""
    context = context_of(request.scope)
    return Origin(via, ip=context.client_ip, request_id=context.request_id)


def checked_id(value: int, what: str) -> int:
    """Ids are positive int32: anything else cannot exist."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"{what} not found")
    return value


def path_id(text: str, what: str) -> int:
    """A path id in its one canonical spelling (ASCII digits, no sign, separator or
    leading zero) within int32; any other spelling names nothing."""
    if CANONICAL_ID.fullmatch(text) is None:
        raise NotFound(f"{what} not found")
    return checked_id(int(text), what)


def _id(what: str) -> Any:
    """An id's path parameter: text for the handler (see path_id), an integer in the
    OpenAPI document."""
    return PathParameter(
        description=f"{what} id, 1..{MAX_ID} in plain digits; anything else is a 404",
        schema_extra={"type": "integer", "minimum": 1, "maximum": MAX_ID},
    )


def _whole_number(description: str) -> Any:
    return QueryParameter(
        description=description, schema_extra={"one_of": None, "type": "integer", "minimum": 1}
    )


ResourceId = Annotated[str, _id("Resource")]
KeyId = Annotated[str, _id("API key")]
WebhookId = Annotated[str, _id("Webhook")]
Page = Annotated[str | None, _whole_number("Page number, from 1 (default 1)")]
Cursor = Annotated[
    str | None,
    QueryParameter(description=CURSOR_RULES, schema_extra={"pattern": CURSOR_PATTERN}),
]
Limit = Annotated[
    str | None,
    _whole_number(f"Page size (default {DEFAULT_LIMIT}); above {MAX_LIMIT} is capped"),
]


def paging(page: str | None, limit: str | None) -> PageRequest:
    return page_request(query_int("page", page), query_int("limit", limit))


def query_int(name: str, text: str | None) -> int | None:
    """A paging number: plain ASCII digits only ('1e3', '1.0', '+5', ' 5' are refused)."""
    if text is None:
        return None
    if DIGITS.fullmatch(text) is None or len(text) > MAX_DIGITS:
        rule = PAGE_RULE if name == "page" else LIMIT_RULE
        raise InvalidInput(f"Invalid query parameter '{name}'", [FieldError(name, rule)])
    return int(text)


def query_id(name: str, text: str | None) -> int | None:
    """An id given as a query parameter, in path_id's one spelling; else a 400."""
    if text is None:
        return None
    if CANONICAL_ID.fullmatch(text) is None or int(text) > MAX_ID:
        raise InvalidInput(
            f"Invalid query parameter '{name}'",
            [FieldError(name, f"must be an integer from 1 to {MAX_ID}, in plain digits")],
        )
    return int(text)
