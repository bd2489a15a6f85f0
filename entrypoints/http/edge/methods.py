"""HEAD is answered as GET is, without the body, wherever GET is served; OPTIONS names
every method its path serves. (Litestar routes HEAD nowhere but static files, and its
own OPTIONS answer names only the methods of the first handler of a path.)"""

from __future__ import annotations

from collections.abc import Iterable

from litestar.routes import BaseRoute, HTTPRoute

from entrypoints.http import routes
from entrypoints.http.edge.exchange import Exchange, Message, Scope, Send
from entrypoints.http.edge.layer import EdgeConfig, Handler, Layer


def allow_table(served: Iterable[BaseRoute]) -> dict[str, bytes]:
    """Allow header values by path template, from the app's routes."""
    return {
        route.path_format: routes.allow(route.methods).encode()
        for route in served
        if isinstance(route, HTTPRoute)
    }


class _WithoutBody:
    """The response to HEAD: GET's status line and headers (Content-Length too)."""

    __slots__ = ("_send",)

    def __init__(self, send: Send) -> None:
        self._send = send

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await self._send(message)


class _WithAllow:
    """The response to OPTIONS, with the Allow header of the path Litestar routed to."""

    __slots__ = ("_scope", "_send", "_table")

    def __init__(self, send: Send, scope: Scope, table: dict[str, bytes]) -> None:
        self._send = send
        self._scope = scope
        self._table = table

    async def __call__(self, message: Message) -> None:
        allow = self._table.get(self._scope.get("path_template", ""))
        if message["type"] == "http.response.start" and message["status"] == 204 and allow:
            headers = [(k, v) for k, v in message["headers"] if k.lower() != b"allow"]
            message = {**message, "headers": [*headers, (b"allow", allow)]}
        await self._send(message)


class Methods(Layer):
    def __init__(self, inner: Handler, config: EdgeConfig) -> None:
        super().__init__(inner, config)
        self._allow = dict(config.allowed_methods)

    async def __call__(self, exchange: Exchange) -> None:
        # Only these two methods pay for a filter; every other request passes as it is.
        if exchange.method == "HEAD":
            exchange.scope["method"] = "GET"
            exchange.downstream = _WithoutBody(exchange.downstream)
        elif exchange.method == "OPTIONS":
            exchange.downstream = _WithAllow(exchange.downstream, exchange.scope, self._allow)
        await self.inner(exchange)
