"""The outer layer every HTTP request passes before (and around) the Litestar app.

It wraps the whole application rather than living in Litestar's middleware because
Litestar runs middleware only for matched routes, and the contract wants a request
id, a log row and quota accounting on 404s and 405s too.

LAYERS is the whole story, outermost first: each part wraps every part after it, does
one thing (one module each, beside this one) and hands the request on, or answers it
itself. Which routes need a key, take one, or are not rate limited is declared in
entrypoints/http/routes.py. The chain is composed once, when the app is built; per
request there is one Exchange (the request's state) and one wrapped `send`.
"""

from __future__ import annotations

from typing import Any

from entrypoints.http.edge.api_version import ApiVersion
from entrypoints.http.edge.authentication import Authentication
from entrypoints.http.edge.client_address import ClientAddress
from entrypoints.http.edge.cors import Cors
from entrypoints.http.edge.exchange import Exchange, Receive, Scope, Send
from entrypoints.http.edge.failures import Failures
from entrypoints.http.edge.layer import EdgeConfig, Handler, Layer
from entrypoints.http.edge.methods import Methods
from entrypoints.http.edge.metrics import RequestMetrics
from entrypoints.http.edge.quota import Quota
from entrypoints.http.edge.request_id import RequestId
from entrypoints.http.edge.request_log import RequestLog
from entrypoints.http.edge.tracing import Tracing

LAYERS: tuple[type[Layer], ...] = (
    RequestMetrics,  # times every request, by route template; answers GET /metrics
    Tracing,  # with tracing on, the request's server span, around everything below
    RequestId,  # every response carries an id, even a 500 made by a layer below
    ClientAddress,  # X-Forwarded-For, as far as trusted proxies vouch for it
    RequestLog,  # one request_logs row per /api request, whatever happens below
    Failures,  # an exception below becomes one JSON error response
    Cors,  # preflights answered; CORS headers on responses to allowed origins
    Methods,  # HEAD as GET without the body; OPTIONS with every method of its path
    Authentication,  # the key, where routes.py asks for or accepts one
    Quota,  # the hourly limit: where a 429 is made
    ApiVersion,  # /api/vN or Accept-Version; after the key, so its 400 is counted too
)

__all__ = ["LAYERS", "Edge", "EdgeConfig"]


class Edge:
    """The ASGI application a server runs: LAYERS around the Litestar app."""

    def __init__(self, app: Any, config: EdgeConfig) -> None:
        self._app = app
        handler: Handler = self._call_app
        for layer in reversed(LAYERS):
            if layer.needed(config):
                handler = layer(handler, config)
        self._first = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan (and websockets, which keygate has none of)
            await self._app(scope, receive, send)
            return
        await self._first(Exchange(scope, receive, send))

    async def _call_app(self, exchange: Exchange) -> None:
        await self._app(exchange.scope, exchange.receive, exchange.send)
