"""Page math and signed cursors shared by every paginated list."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from domain.errors import FieldError, InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Stores take offsets as 64-bit integers; a page past any real table reads from here,
# so a huge page number is an empty page, never an overflow.
MAX_OFFSET = 2**62
PAGE_RULE = "must be an integer >= 1"
LIMIT_RULE = f"must be an integer >= 1 (values above {MAX_LIMIT} are capped)"


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    limit: int = DEFAULT_LIMIT

    @property
    def offset(self) -> int:
        return min((self.page - 1) * self.limit, MAX_OFFSET)


def page_request(page: int | None, limit: int | None) -> PageRequest:
    """Validated paging input: page >= 1, limit >= 1 and capped at MAX_LIMIT."""
    if page is not None and page < 1:
        raise InvalidInput(
            "Invalid query parameter 'page'",
            [FieldError("page", PAGE_RULE)],
        )
    if limit is not None and limit < 1:
        raise InvalidInput(
            "Invalid query parameter 'limit'",
            [FieldError("limit", LIMIT_RULE)],
        )
    return PageRequest(page or 1, min(limit or DEFAULT_LIMIT, MAX_LIMIT))


@dataclass(frozen=True, slots=True)
class PageInfo:
    page: int | None
    limit: int
    total: int
    total_pages: int
    has_next: bool
    next_cursor: str | None = None
    # True when `total` is a planner's estimate rather than a count.
    total_is_estimate: bool = False


@dataclass(frozen=True, slots=True)
class Total:
    """How many rows match a list query: counted, or estimated by the database."""

    count: int
    estimated: bool = False


def estimated_page_info(request: PageRequest, total: Total, shown: int, more: bool) -> PageInfo:
    """Page info whose `hasNext` is what the rows said (`more`: a row beyond the page was
    read) and whose total agrees with it: an estimate is raised to what the rows prove
    exists, and on the last page, where the rows tell the total exactly, replaced by it."""
    count = total.count
    estimated = total.estimated
    if estimated:
        seen = request.offset + shown
        if not more and (shown or request.offset == 0):
            count, estimated = seen, False
        elif more:
            count = max(count, seen + 1)
        else:  # past the end: nothing here, so at most `offset` rows match
            count = min(count, request.offset)
    info = page_info(request, count)
    return replace(info, has_next=more, total_is_estimate=estimated)


def page_info(request: PageRequest, total: int) -> PageInfo:
    total_pages = -(-total // request.limit) if total else 0
    return PageInfo(
        page=request.page,
        limit=request.limit,
        total=total,
        total_pages=total_pages,
        has_next=request.page < total_pages,
    )


def keyset_page(
    page: PageRequest,
    total: int,
    fetched: Sequence[T],
    *,
    by_cursor: bool,
    cursor_after: Callable[[T], str],
) -> tuple[Sequence[T], PageInfo]:
    """A page of a list read one row past `page.limit` (so `hasNext` comes from the rows
    themselves when a cursor started it), with the cursor that continues after it."""
    items = fetched[: page.limit]
    info = page_info(page, total)
    if by_cursor:
        info = replace(info, page=None, has_next=len(fetched) > page.limit)
    if info.has_next and items:
        info = replace(info, next_cursor=cursor_after(items[-1]))
    return items, info


def page_with_cursor() -> InvalidInput:
    return InvalidInput(
        "Query parameters 'cursor' and 'page' cannot be combined",
        [FieldError("page", "omit page when a cursor is given: the cursor replaces it")],
    )


MALFORMED_CURSOR = "is malformed; use pagination.nextCursor as given"


def cursor_error(message: str = MALFORMED_CURSOR) -> InvalidInput:
    return InvalidInput("Invalid query parameter 'cursor'", [FieldError("cursor", message)])


class SignedCursors:
    """Cursors are opaque to clients: JSON, base64url, signed with HMAC-SHA256."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the cursor secret must not be empty")
        self._key = secret.encode()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def seal(self, items: list[Any]) -> str:
        """Any JSON list as a signed token; `open` gives it back or refuses it."""
        payload = json.dumps(items, separators=(",", ":"), ensure_ascii=False).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def open(self, token: str) -> list[Any]:
        try:
            body, _, signature = token.partition(".")
            payload = _unb64(body)
            valid = hmac.compare_digest(_unb64(signature), self._sign(payload))
        except (ValueError, binascii.Error):
            raise cursor_error() from None
        if not valid:
            raise cursor_error("was not issued by this server")
        try:
            items = json.loads(payload)
        except ValueError:
            raise cursor_error() from None
        if not isinstance(items, list):
            raise cursor_error()
        return items


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("empty or non-ASCII")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
