"""An exception from any layer inside, or from the app, becomes one JSON error response,
made by the error renderer the API's own handlers use (entrypoints/http/errors.py):
a refusal (401, 429, ...) as its status, anything unexpected as a 500 with the
request id. A response already under way cannot be replaced: it is logged as a 500."""

from __future__ import annotations

from entrypoints.http.edge.exchange import Exchange
from entrypoints.http.edge.layer import Layer
from entrypoints.http.errors import render_error


class Failures(Layer):
    async def __call__(self, exchange: Exchange) -> None:
        try:
            await self.inner(exchange)
        except Exception as exc:
            error = render_error(exc, exchange.context.request_id, exchange.context.trace_id)
            if not exchange.started:
                await exchange.send_json(error.status, error.body, error.headers)
            elif not exchange.complete:
                exchange.status = 500  # the status line went out, but the body was cut short
