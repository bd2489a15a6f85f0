"""The audit log page (admins): who changed which key or webhook subscription, from
where, newest first, with filters and a next-page link."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template

from application.audit import ListAudit
from domain.audit import Action, audit_query
from domain.pagination import PageRequest
from entrypoints.web.responses import render
from entrypoints.web.visit import Dashboard, Visit

ENTRIES_PER_PAGE = 50


def _target_id(text: str | None) -> int | None:
    if not text:
        return None
    # An id that is not a plain number names nothing: 0 matches no entry.
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else 0


@get("/audit", include_in_schema=False)
async def audit_page(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    list_audit: NamedDependency[ListAudit],
    action: FromQuery[str | None] = None,
    target: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    caller = visit.require()
    chosen = action if action in {a.value for a in Action} else None
    query = audit_query(chosen, None, _target_id(target))
    entries, info = await list_audit(caller, query, PageRequest(1, ENTRIES_PER_PAGE), cursor)
    filters = {"action": chosen or "", "target": target or ""}
    next_page = None
    if info.next_cursor:
        next_page = "?" + urlencode({**filters, "cursor": info.next_cursor})
    return render(
        dashboard, request, visit, "audit.html", entries=entries, actions=[a.value for a in Action],
        filters=filters, next_page=next_page, changes_text=_changes_text,
    )  # fmt: skip


def _changes_text(changes: dict[str, tuple[object, object]] | None) -> list[str]:
    if not changes:
        return []
    return [
        f"{field}: {json.dumps(old, ensure_ascii=False)} → {json.dumps(new, ensure_ascii=False)}"
        for field, (old, new) in changes.items()
    ]


HANDLERS = [audit_page]
