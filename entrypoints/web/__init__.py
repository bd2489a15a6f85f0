"""The third entrypoint: server-rendered dashboard pages at /dashboard, for people.

Same container, same use cases as the API and the CLI; this package only turns forms
and sessions into use-case calls and their results into HTML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response, Router
from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from domain.errors import DomainError
from entrypoints.container import Container
from entrypoints.http.context import context_of
from entrypoints.http.errors import render_error
from entrypoints.web.oidc import OidcClient
from entrypoints.web.pages import (
    HANDLERS,
    SIGNIN,
    CsrfRejected,
    Dashboard,
    NotSignedIn,
    error_page,
    provide_visit,
    redirect,
)
from entrypoints.web.session import SessionCodec

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
    "recent_requests",
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
    oidc = None
    if settings.oidc_issuer:
        # Settings.validate insists on these two whenever an issuer is set.
        assert settings.oidc_client_id and settings.public_base_url
        oidc = OidcClient(
            settings.oidc_issuer,
            settings.oidc_client_id,
            settings.oidc_client_secret,
            settings.public_base_url,
        )
    return Dashboard(
        codec=SessionCodec(settings.session_secret),
        oidc=oidc,
        https=(settings.public_base_url or "").startswith("https://"),
        signin_per_hour=settings.signin_per_hour,
    )


def _csrf_rejected(_: Request[Any, Any, Any], __: CsrfRejected) -> Response[Any]:
    return error_page(403, "The form was stale or did not come from this site. Reload and retry.")


def _domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    # The API's renderer decides the status and Retry-After; the page says why. Its
    # other headers (WWW-Authenticate: Bearer) speak to API clients, not to browsers.
    error = render_error(exc, context_of(request.scope).request_id)
    response = error_page(error.status, exc.message)
    if "Retry-After" in error.headers:
        response.headers["Retry-After"] = error.headers["Retry-After"]
    return response


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    message = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Bad request")
    return error_page(exc.status_code, message)


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
        route_handlers=[*HANDLERS, static],
        dependencies=dependencies,
        exception_handlers={
            NotSignedIn: not_signed_in,
            CsrfRejected: _csrf_rejected,
            DomainError: _domain_error,
            HTTPException: _http_error,
        },
        response_headers=RESPONSE_HEADERS,
        include_in_schema=False,
    )
