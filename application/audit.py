"""Reading the audit log (admins and operators only); it is written by the use cases
that change keys and webhook subscriptions, through their unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from application.ports.audit import AuditTrail
from domain.audit import AuditEntry, AuditQuery
from domain.keys import Caller, Permission, require
from domain.pagination import (
    PageInfo,
    PageRequest,
    SignedCursors,
    cursor_error,
    keyset_page,
    page_with_cursor,
)

AUDIT_CURSOR = "audit"  # never taken for a keys or resources cursor


def _filters(query: AuditQuery) -> list[object]:
    return [query.action, query.target_type, query.target_id]


class ListAudit:
    def __init__(self, trail: AuditTrail, codec: Callable[[], Awaitable[SignedCursors]]) -> None:
        self._trail = trail
        self._codec = codec

    async def __call__(
        self,
        caller: Caller,
        query: AuditQuery,
        page: PageRequest,
        cursor: str | None = None,
        *,
        page_given: bool = False,
    ) -> tuple[Sequence[AuditEntry], PageInfo]:
        """Newest first, paged by `page` or by the keyset `cursor` of a previous
        answer's nextCursor (which holds the filters it was issued for)."""
        require(caller, Permission.ADMIN)
        codec = await self._codec()
        before_id = None
        if cursor is not None:
            if page_given:
                raise page_with_cursor()
            before_id = _before_id(codec.open(cursor), query)
        entries, total = await self._trail.list(query, page, before_id, page.limit + 1)
        return keyset_page(
            page,
            total,
            entries,
            by_cursor=before_id is not None,
            cursor_after=lambda last: codec.seal([AUDIT_CURSOR, *_filters(query), last.id]),
        )


def _before_id(items: list[object], query: AuditQuery) -> int:
    if len(items) != 5 or items[0] != AUDIT_CURSOR or type(items[4]) is not int:
        raise cursor_error()
    if items[1:4] != _filters(query):
        raise cursor_error("was issued for different filters (action, targetType, targetId)")
    return items[4]
