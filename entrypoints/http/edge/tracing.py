"""The request's server span (with tracing on): named `{method} {route template}` once
the route is known, its trace id in the request context for the 500 body and the log
lines. Outside the request id and failures layers, so everything they do is in it."""

from __future__ import annotations

from entrypoints.http.edge.exchange import Exchange
from entrypoints.http.edge.layer import EdgeConfig, Handler, Layer, route_of
from entrypoints.http.edge.request_log import CLIENT_CLOSED_REQUEST


class Tracing(Layer):
    def __init__(self, inner: Handler, config: EdgeConfig) -> None:
        super().__init__(inner, config)
        assert config.tracing is not None
        self._tracing = config.tracing
        self._config = config

    @staticmethod
    def needed(config: EdgeConfig) -> bool:
        return config.tracing is not None

    async def __call__(self, exchange: Exchange) -> None:
        with self._tracing.server_span(exchange.method, exchange.path, exchange.headers) as span:
            exchange.context.trace_id = span.trace_id
            try:
                await self.inner(exchange)
            finally:
                status = CLIENT_CLOSED_REQUEST if exchange.client_gone else exchange.status
                span.finish(route_of(exchange, self._config), status)
