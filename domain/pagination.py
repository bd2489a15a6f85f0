"""Page math shared by every paginated list."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import FieldError, InvalidInput

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    limit: int = DEFAULT_LIMIT

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def page_request(page: int | None, limit: int | None) -> PageRequest:
    """Validated paging input: page >= 1, limit >= 1 and capped at MAX_LIMIT."""
    if page is not None and page < 1:
        raise InvalidInput(
            "Invalid query parameter 'page'",
            [FieldError("page", "must be an integer >= 1")],
        )
    if limit is not None and limit < 1:
        raise InvalidInput(
            "Invalid query parameter 'limit'",
            [FieldError("limit", f"must be an integer >= 1 (values above {MAX_LIMIT} are capped)")],
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


def page_info(request: PageRequest, total: int) -> PageInfo:
    total_pages = -(-total // request.limit) if total else 0
    return PageInfo(
        page=request.page,
        limit=request.limit,
        total=total,
        total_pages=total_pages,
        has_next=request.page < total_pages,
    )
