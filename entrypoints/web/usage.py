"""What a key did and has left: its 24-hour usage chart, what each quota window and its
credits have left, and the recent requests of the caller's keys."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from application.keys import GetKey
from application.quota import LookAtQuota
from application.request_log import KeyUsage, RecentRequests
from domain.errors import ServiceUnavailable
from domain.keys import Caller
from domain.quota import Verdict
from domain.request_log import STATUS_CLASSES
from entrypoints.http.controllers.common import checked_id
from entrypoints.web.chart import bar_chart
from entrypoints.web.responses import render
from entrypoints.web.visit import Dashboard, Visit

RECENT_LIMIT = 100


@get("/keys/{key_id:int}", include_in_schema=False)
async def key_page(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    key_id: FromPath[int],
    get_key: NamedDependency[GetKey],
    key_usage: NamedDependency[KeyUsage],
    look_at_quota: NamedDependency[LookAtQuota],
) -> Template:
    caller = visit.require()
    key = await get_key(caller, checked_id(key_id, "API key"))
    report = await key_usage(caller, key.id)
    return render(
        dashboard, request, visit, "key.html", key=key, report=report,
        chart=bar_chart(report.hourly), quota=await _quota(look_at_quota, caller, key.id),
    )  # fmt: skip


async def _quota(look_at_quota: LookAtQuota, caller: Caller, key_id: int) -> Verdict | None:
    """The key's quota as GET /api/keys/{id}/quota reads it; None when the store cannot
    answer: the page still shows the usage, and says the quota is unknown."""
    try:
        return (await look_at_quota(caller, key_id)).verdict
    except ServiceUnavailable:
        return None


@get("/requests", include_in_schema=False)
async def requests_page(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    recent_requests: NamedDependency[RecentRequests],
    status: FromQuery[str | None] = None,
) -> Template:
    caller = visit.require()
    chosen = status if status in STATUS_CLASSES else None
    rows = await recent_requests(caller, int(chosen[0]) if chosen else None, RECENT_LIMIT)
    return render(
        dashboard, request, visit, "requests.html", rows=rows, status=chosen or "",
        classes=STATUS_CLASSES,
    )  # fmt: skip


HANDLERS = [key_page, requests_page]
