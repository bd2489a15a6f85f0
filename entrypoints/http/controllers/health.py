from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency

from application.health import CheckHealth, CheckReadiness
from entrypoints.http.presenter import present


class HealthBody(msgspec.Struct):
    status: str
    uptime: float
    version: str
    database: str


@get(
    "/health",
    summary="Service health",
    description="Liveness: public and not rate limited. 503 with status 'unavailable' "
    "when the database cannot be reached.",
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


class ReadinessChecks(msgspec.Struct, rename="camel", omit_defaults=True):
    database: str
    migrations: str
    shutdown: str
    # Only when QUOTA_STORE_URL names a store of its own.
    quota_store: str | None = None


class ReadinessBody(msgspec.Struct):
    status: str
    checks: ReadinessChecks


@get(
    "/health/ready",
    summary="Readiness, for load balancers",
    description="Public and not rate limited. 200 with status 'ready' when this process "
    "can serve: the database (and the quota store, when QUOTA_STORE_URL is set) "
    "reachable, every migration applied, not stopping. Otherwise 503 with status "
    "'unavailable' and, in checks, each check's answer: database 'ok' or 'unreachable', "
    "quotaStore 'ok' or 'unreachable', migrations 'ok', 'pending' or 'unknown', shutdown "
    "'no' or 'stopping'. It turns 503 as soon as the process is asked to stop (SIGTERM), "
    "and the process keeps serving for SHUTDOWN_DELAY seconds before it closes its listener.",
    tags=["health"],
    security=[{}],
)
async def ready(
    request: Request[Any, Any, Any], check_readiness: NamedDependency[CheckReadiness]
) -> Response[ReadinessBody]:
    report = await check_readiness()
    migrations = {True: "ok", False: "pending", None: "unknown"}[report.migrations_current]
    checks = ReadinessChecks(
        database=_reachable(report.database_ok),
        migrations=migrations,
        shutdown="stopping" if report.stopping else "no",
        quota_store=None if report.quota_store_ok is None else _reachable(report.quota_store_ok),
    )
    body = ReadinessBody(status="ready" if report.ready else "unavailable", checks=checks)
    return present(request, body, status=200 if report.ready else 503)


def _reachable(ok: bool) -> str:
    return "ok" if ok else "unreachable"
