"""What keys did and have left: a key's usage chart (24 hours by hour, or 30 days by
day, of one status or all) and what each quota window and its credits have left, the
admins' overview of the busiest keys, and the recent requests of the caller's keys.
The usage figures come from the usage rollups, never from a scan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from application.keys import GetKey
from application.quota import LookAtQuota
from application.request_log import RecentRequests
from application.usage import KeyUsage, UsageOverview
from domain.errors import ServiceUnavailable
from domain.keys import Caller
from domain.quota import Verdict
from domain.request_log import STATUS_CLASSES
from domain.usage import Granularity
from entrypoints.http.controllers.common import checked_id
from entrypoints.web.chart import bar_chart
from entrypoints.web.responses import render
from entrypoints.web.visit import Dashboard, Visit

RECENT_LIMIT = 100
# The range the key page shows for each granularity, ending now.
PAGE_RANGE = {Granularity.HOUR: timedelta(hours=24), Granularity.DAY: timedelta(days=30)}
OVERVIEW_RANGE = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


@get("/keys/{key_id:int}", include_in_schema=False)
async def key_page(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    key_id: FromPath[int],
    get_key: NamedDependency[GetKey],
    key_usage: NamedDependency[KeyUsage],
    look_at_quota: NamedDependency[LookAtQuota],
    granularity: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
) -> Template:
    caller = visit.require()
    key = await get_key(caller, checked_id(key_id, "API key"))
    unit = Granularity.DAY if granularity == "day" else Granularity.HOUR
    report = await key_usage(caller, key.id, granularity=unit, span=PAGE_RANGE[unit])
    statuses = [*STATUS_CLASSES, *(str(code) for code in report.by_status_code)]
    chosen = status if status in statuses else None
    series = report.series(chosen)
    return render(
        dashboard, request, visit, "key.html", key=key, report=report, series=series,
        chart=bar_chart(series, "%H:00" if unit is Granularity.HOUR else "%m-%d"),
        unit=unit.value, statuses=statuses, status=chosen or "",
        quota=await _quota(look_at_quota, caller, key.id),
    )  # fmt: skip


async def _quota(look_at_quota: LookAtQuota, caller: Caller, key_id: int) -> Verdict | None:
    """The key's quota as GET /api/keys/{id}/quota reads it; None when the store cannot
    answer: the page still shows the usage, and says the quota is unknown."""
    try:
        return (await look_at_quota(caller, key_id)).verdict
    except ServiceUnavailable:
        return None


@get("/usage", include_in_schema=False)
async def overview_page(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    usage_overview: NamedDependency[UsageOverview],
    period: FromQuery[str | None] = None,
) -> Template:
    caller = visit.require()
    chosen = period if period in OVERVIEW_RANGE else "24h"
    _, keys = await usage_overview(caller, OVERVIEW_RANGE[chosen])
    return render(
        dashboard, request, visit, "usage.html", keys=keys, period=chosen,
        periods=list(OVERVIEW_RANGE),
    )  # fmt: skip


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


HANDLERS = [key_page, overview_page, requests_page]
