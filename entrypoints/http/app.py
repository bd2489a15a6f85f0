"""The HTTP entrypoint: a Litestar app for the routes, inside the outer layer (edge/)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.logging.config import LoggingConfig

from entrypoints.container import VERSION, Container
from entrypoints.http.controllers import audit, key_changes, keys, quota, webhooks
from entrypoints.http.controllers.docs import docs_handlers
from entrypoints.http.controllers.health import health, ready
from entrypoints.http.controllers.home import home
from entrypoints.http.controllers.resources import ResourceController
from entrypoints.http.edge import Edge, EdgeConfig
from entrypoints.http.edge.methods import allow_table
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.openapi import StrictStructSchemaPlugin, openapi_config
from entrypoints.http.strict_body import strict_json_body
from entrypoints.lifecycle import hold_stop_signal, running
from entrypoints.logs import formatter_config, stamp_request_ids
from entrypoints.web import router as web

MAX_BODY_BYTES = 1024 * 1024
API_PREFIXES = ("/api/v1", "/api", "/api/v2")


def _from_container(container: Container, name: str) -> Provide:
    provider = getattr(container, name)
    return Provide(lambda: provider(), sync_to_thread=False)


def _dependencies(container: Container) -> dict[str, Provide]:
    """Handlers ask for use cases by name; each comes from the container."""
    return {
        name: _from_container(container, name)
        for name in (
            "check_health",
            "check_readiness",
            "issue_key",
            "list_keys",
            "revoke_key",
            "rotate_key",
            "update_key",
            "key_usage",
            "look_at_quota",
            "credits_left",
            "list_audit",
            "list_resources",
            "get_resource",
            "create_resource",
            "replace_resource",
            "patch_resource",
            "delete_resource",
            "subscribe_webhook",
            "list_webhooks",
            "unsubscribe_webhook",
            "list_webhook_deliveries",
        )
    }


# Set by the outer layer (entrypoints/http/edge/), which Litestar does not
# see: declared here so that the OpenAPI document tells clients they exist.
DOCUMENTED_HEADERS = [
    ResponseHeader(
        name="X-Request-Id",
        documentation_only=True,
        description="This request's id (the client's own X-Request-Id when it sent one);"
        " also in request_logs and in 500 bodies.",
    ),
    ResponseHeader(
        name="X-RateLimit-Limit",
        documentation_only=True,
        description="Authenticated responses: the key's requests per rolling hour.",
    ),
    ResponseHeader(
        name="X-RateLimit-Remaining",
        documentation_only=True,
        description="Authenticated responses: requests left in the rolling hour.",
    ),
    ResponseHeader(
        name="RateLimit-Policy",
        documentation_only=True,
        description='Authenticated responses: e.g. "hourly";q=100;w=3600.',
    ),
    ResponseHeader(
        name="RateLimit",
        documentation_only=True,
        description='Authenticated responses: e.g. "hourly";r=42;t=1800'
        " (t: seconds until the quota is whole again).",
    ),
]
API_DESCRIPTION = (
    "Every path below is also served without the version segment (/api/...), the same"
    " as /api/v1. /api/v2/... (or the header Accept-Version: 2 on an unversioned path)"
    ' wraps each successful body as {"data": ..., "meta": ...}; an unsupported'
    " Accept-Version is a 400. A 429 carries Retry-After in seconds."
)


def _handlers() -> list[Any]:
    return [
        health,
        ready,
        *keys.HANDLERS,
        *key_changes.HANDLERS,
        *quota.HANDLERS,
        ResourceController,
        *webhooks.HANDLERS,
        *audit.HANDLERS,
    ]


def _lifespan(container: Container, hold_stop: bool) -> Any:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with running(container, container.services()):
            if hold_stop:
                settings = container.settings()
                hold_stop_signal(
                    container.shutdown_state(), settings.shutdown_delay, settings.server
                )
            yield

    return lifespan


def create_app(container: Container, *, hold_stop: bool = False) -> Litestar:
    """`hold_stop`: under `serve`, SIGTERM first turns readiness 503 (hold_stop_signal)."""
    # Litestar runs only the innermost before_request hook: a handler or controller
    # that sets its own must call strict_json_body too.
    routers = [
        Router(
            path=prefix,
            route_handlers=_handlers(),
            include_in_schema=prefix == "/api/v1",
            before_request=strict_json_body,
            response_headers=DOCUMENTED_HEADERS,
        )
        for prefix in API_PREFIXES
    ]
    # Litestar configures the root logger with its queue handler; JSON lines take its
    # formatter's place (the default text lines stay as they were).
    logging: dict[str, Any] = {}
    if container.settings().log_format == "json":
        logging["logging_config"] = LoggingConfig(formatters={"standard": formatter_config("json")})
    return Litestar(
        route_handlers=[*routers, home, *docs_handlers(), web.router(container)],
        template_config=web.template_config(),
        dependencies=_dependencies(container),
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[_lifespan(container, hold_stop)],
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=openapi_config(VERSION, API_DESCRIPTION),
        plugins=[StrictStructSchemaPlugin()],
        debug=False,
        **logging,
    )


def route_templates(app: Litestar) -> Callable[[str, str], str]:
    """The route template Litestar would match a path to ("" for none): for requests
    the outer layer answers before Litestar routes them (a 401, a 429)."""

    def template(path: str, method: str) -> str:
        try:
            # Litestar's own lookup, cached by it (1024 paths).
            return app.asgi_router.handle_routing(path=path, method=method)[4]
        except HTTPException:
            return ""

    return template


def create_asgi(container: Container, *, hold_stop: bool = False) -> Edge:
    """The app a server runs: the Litestar app inside the outer layer."""
    settings = container.settings()
    stamp_request_ids()
    app = create_app(container, hold_stop=hold_stop)
    return Edge(
        app,
        EdgeConfig(
            allowed_methods=allow_table(app.routes),
            authenticate=container.authenticate(),
            check_quota=container.check_quota(),
            log_sink=container.request_log_sink(),
            registration_per_hour=settings.registration_per_hour,
            trusted_proxies=settings.trusted_proxies,
            cors_origins=settings.cors_origins,
            metrics=container.metrics(),
            route_template=route_templates(app),
            scrape=container.observability().scrape,
            tracing=container.observability().tracing,
            metrics_token=settings.metrics_token,
        ),
    )
