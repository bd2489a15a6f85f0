"""The dashboard's Litestar router: its pages, static files, dependencies and error pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response, Router
from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from entrypoints.container import Container
from entrypoints.web import audit, keys, signin, usage
from entrypoints.web.errors import (
    CsrfRejected,
    NotSignedIn,
    any_error,
    bad_form,
    csrf_rejected,
)
from entrypoints.web.forms import BadForm
from entrypoints.web.responses import SIGNIN, redirect
from entrypoints.web.visit import Dashboard, provide_visit

HERE = Path(__file__).parent
USE_CASES = (
    "authenticate",
    "check_quota",
    "issue_key",
    "list_keys",
    "get_key",
    "revoke_key",
    "rotate_key",
    "key_usage",
    "usage_overview",
    "look_at_quota",
    "recent_requests",
    "start_session",
    "check_session",
    "end_session",
    "list_audit",
)
# Everything the pages load comes from this host: no CDN, no inline script or style.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; frame-ancestors 'none'"
)
RESPONSE_HEADERS = [
    ResponseHeader(name="Content-Security-Policy", value=CONTENT_SECURITY_POLICY),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Referrer-Policy", value="same-origin"),
    ResponseHeader(name="Cache-Control", value="no-store"),
]


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def dashboard_of(container: Container) -> Dashboard:
    settings = container.settings()
    return Dashboard(
        codec=container.session_codec(),
        oidc=container.identity_provider(),
        https=(settings.public_base_url or "").startswith("https://"),
        signin_per_hour=settings.signin_per_hour,
    )


def _from_container(container: Container, name: str) -> Provide:
    provider = getattr(container, name)
    return Provide(lambda: provider(), sync_to_thread=False)


def router(container: Container) -> Router:
    dashboard = dashboard_of(container)
    dependencies = {name: _from_container(container, name) for name in USE_CASES}
    dependencies["dashboard"] = Provide(lambda: dashboard, sync_to_thread=False)
    dependencies["visit"] = Provide(provide_visit)

    def not_signed_in(request: Request[Any, Any, Any], exc: NotSignedIn) -> Response[Any]:
        target = f"{SIGNIN}?notice={exc.notice}" if exc.notice else SIGNIN
        return redirect(dashboard, request, target, clear=exc.clear)

    static = create_static_files_router(path="/static", directories=[HERE / "static"])
    return Router(
        path="/dashboard",
        route_handlers=[
            *signin.HANDLERS,
            *keys.HANDLERS,
            *usage.HANDLERS,
            *audit.HANDLERS,
            static,
        ],
        dependencies=dependencies,
        exception_handlers={
            NotSignedIn: not_signed_in,
            CsrfRejected: csrf_rejected,
            BadForm: bad_form,
            Exception: any_error,
        },
        response_headers=RESPONSE_HEADERS,
        include_in_schema=False,
    )
