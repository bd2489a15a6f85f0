from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency

from application.health import CheckHealth
from entrypoints.http.presenter import present


class HealthBody(msgspec.Struct):
    status: str
    uptime: float
    version: str
    database: str


@get(
    "/health",
    summary="Service health",
    description="Public and not rate limited. 503 with status 'unavailable' when the "
    "database cannot be reached.",
    tags=["health"],
    # One empty requirement: no key needed (an empty list would inherit the bearer default).
    security=[{}],
)
async def health(
    request: Request[Any, Any, Any], check_health: NamedDependency[CheckHealth]
) -> Response[HealthBody]:
    report = await check_health()
    body = HealthBody(
        status="ok" if report.ok else "unavailable",
        uptime=report.uptime_seconds,
        version=report.version,
        database="ok" if report.database_ok else "unreachable",
    )
    return present(request, body, status=200 if report.ok else 503)
