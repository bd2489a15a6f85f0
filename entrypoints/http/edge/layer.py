"""What every part of the outer layer is: it does its one thing with the exchange, then
hands it to the part inside it (or answers the request itself)."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from application.keys import Authenticate
from application.ports.metrics import Metrics
from application.ports.request_log import RequestLogSink
from application.quota import CheckQuota
from entrypoints.http.edge.exchange import Exchange

Handler = Callable[[Exchange], Awaitable[None]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ServerSpan(Protocol):
    trace_id: str

    def finish(self, route: str, status: int) -> None: ...


class RequestTracing(Protocol):
    """Tracing's side of a request (adapters/tracing/spans.py, reached via the container)."""

    def server_span(
        self, method: str, path: str, headers: Mapping[bytes, bytes]
    ) -> AbstractContextManager[ServerSpan]: ...


@dataclass(frozen=True, slots=True)
class EdgeConfig:
    """What the layers are built from; each takes the part it needs."""

    authenticate: Authenticate
    check_quota: CheckQuota
    log_sink: RequestLogSink
    registration_per_hour: int
    trusted_proxies: tuple[Network, ...] = ()
    cors_origins: tuple[str, ...] = ()
    # Allow header values by Litestar path template (edge/methods.py).
    allowed_methods: Mapping[str, bytes] = field(default_factory=dict)
    # None: metrics off (METRICS_ENABLED=false), no layer times requests.
    metrics: Metrics | None = None
    # GET /metrics's body and content type; None: not served on this port.
    scrape: Callable[[], tuple[bytes, str]] | None = None
    metrics_token: str | None = None
    # The route template of (path, method), "" for none (http/app.py).
    route_template: Callable[[str, str], str] = lambda path, method: ""
    # None: tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT), the layer left out.
    tracing: RequestTracing | None = None


def route_of(exchange: Exchange, config: EdgeConfig) -> str:
    """The request's route template: Litestar's router sets it when the request got that
    far; one refused before (a 401, a 429) is looked up."""
    template: str | None = exchange.scope.get("path_template")
    return config.route_template(exchange.path, exchange.method) if template is None else template


class Layer:
    def __init__(self, inner: Handler, config: EdgeConfig) -> None:
        self.inner = inner

    @staticmethod
    def needed(config: EdgeConfig) -> bool:
        """False when the configuration leaves the layer nothing to do: it is left out
        of the chain at build time rather than asked on every request."""
        return True

    async def __call__(self, exchange: Exchange) -> None:
        raise NotImplementedError
