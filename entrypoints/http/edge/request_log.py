"""One request_logs row for every request under /api, whatever happens inside: a
refusal, a 404, a 500, a client that went away (499) or a cancelled request."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from domain.request_log import RequestLogEntry
from entrypoints.http.edge.exchange import Exchange
from entrypoints.http.edge.layer import EdgeConfig, Handler, Layer

# nginx's convention, for a client that went away before its response was complete:
# whatever status the app produced afterwards never reached anyone.
CLIENT_CLOSED_REQUEST = 499


class RequestLog(Layer):
    def __init__(self, inner: Handler, config: EdgeConfig) -> None:
        super().__init__(inner, config)
        self._sink = config.log_sink

    async def __call__(self, exchange: Exchange) -> None:
        if exchange.route is None:
            await self.inner(exchange)
            return
        started = time.perf_counter()
        try:
            await self.inner(exchange)
        except asyncio.CancelledError:
            # The server gave up on this request (client gone, shutdown timeout).
            exchange.client_gone = exchange.client_gone or not exchange.complete
            raise
        finally:
            ctx = exchange.context
            self._sink.record(
                RequestLogEntry(
                    method=exchange.method,
                    path=exchange.path,
                    status_code=CLIENT_CLOSED_REQUEST if exchange.client_gone else exchange.status,
                    response_time_ms=round((time.perf_counter() - started) * 1000, 3),
                    ip_address=ctx.client_ip,
                    api_key_id=ctx.api_key.id if ctx.api_key else None,
                    created_at=datetime.now(UTC),
                )
            )
