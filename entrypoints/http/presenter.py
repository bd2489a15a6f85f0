"""Success bodies for v1 (as is) and v2 (wrapped in {data, meta}): one use case, two shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, Response

from domain.pagination import PageInfo
from entrypoints.http.context import context_of
from entrypoints.views.keys import iso


class Pagination(msgspec.Struct, rename="camel"):
    page: int | None
    limit: int
    total: int
    total_pages: int
    has_next: bool
    next_cursor: str | None = None
    total_is_estimate: bool = False

    @classmethod
    def of(cls, info: PageInfo) -> Pagination:
        return cls(
            page=info.page,
            limit=info.limit,
            total=info.total,
            total_pages=info.total_pages,
            has_next=info.has_next,
            next_cursor=info.next_cursor,
            total_is_estimate=info.total_is_estimate,
        )


class ListBody(msgspec.Struct):
    data: list[Any]
    pagination: Pagination


_encoder = msgspec.json.Encoder()


def present(
    request: Request[Any, Any, Any],
    body: Any,
    *,
    status: int = 200,
    pagination: PageInfo | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    ctx = context_of(request.scope)
    if ctx.version == 2:
        meta: dict[str, Any] = {
            "requestId": ctx.request_id,
            "timestamp": iso(datetime.now(UTC)),
        }
        if pagination is not None:
            meta["pagination"] = Pagination.of(pagination)
        payload: Any = {"data": body, "meta": meta}
    elif pagination is not None:
        payload = ListBody(data=body, pagination=Pagination.of(pagination))
    else:
        payload = body
    return Response(
        content=_encoder.encode(payload),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
