"""The audit log: GET /audit (admin)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from application.audit import ListAudit
from domain.audit import audit_query
from entrypoints.http.controllers.common import (
    MAX_ID,
    Cursor,
    Limit,
    Page,
    caller_of,
    paging,
    query_id,
)
from entrypoints.http.error_docs import errors
from entrypoints.http.presenter import Pagination, present
from entrypoints.views.audit import AuditEntryView


class AuditList(msgspec.Struct):
    data: list[AuditEntryView]
    pagination: Pagination


ActionName = Literal[
    "key.issued", "key.rotated", "key.revoked", "key.updated", "webhook.created", "webhook.deleted"
]


@get(
    "/audit",
    responses=errors(403),
    summary="The audit log",
    description="Every change to a key (issued, rotated, revoked, updated) and to a "
    "webhook subscription (created, deleted), from the API, the CLI or the dashboard, "
    "newest first. Admin keys only. `changes` maps each field to [old, new]; no entry "
    "holds a raw key, a key hash or a signing secret.",
    tags=["audit"],
)
async def list_audit(
    request: Request[Any, Any, Any],
    list_audit: NamedDependency[ListAudit],
    action: Annotated[ActionName | None, QueryParameter(description="Only this action")] = None,
    target_type: Annotated[
        Literal["key", "webhook"] | None,
        QueryParameter(name="targetType", description="Only changes to this kind of object"),
    ] = None,
    target_id: Annotated[
        str | None,
        QueryParameter(
            name="targetId",
            description="Only this object's id",
            schema_extra={"one_of": None, "type": "integer", "minimum": 1, "maximum": MAX_ID},
        ),
    ] = None,
    page: Page = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response[AuditList]:
    entries, info = await list_audit(
        caller_of(request),
        audit_query(action, target_type, query_id("targetId", target_id)),
        paging(page, limit),
        cursor,
        page_given=page is not None,
    )
    return present(request, [AuditEntryView.of(e) for e in entries], pagination=info)


HANDLERS = [list_audit]
