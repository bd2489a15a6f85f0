"""What every part of the outer layer is: it does its one thing with the exchange, then
hands it to the part inside it (or answers the request itself)."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from application.keys import Authenticate
from application.ports.metrics import Metrics
from application.ports.request_log import RequestLogSink
from application.quota import CheckQuota
from entrypoints.http.edge.exchange import Exchange

Handler = Callable[[Exchange], Awaitable[None]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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
