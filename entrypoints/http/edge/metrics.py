"""Request metrics, and the scrape itself: each request is timed by its method, route
template and status (never its raw path), and GET /metrics is answered here, before any
layer that would log, count or rate-limit it. With METRICS_TOKEN set the scrape needs
it as a Bearer token; with METRICS_PORT set the scrape is not on this port at all
(`serve` serves it on its own: entrypoints/cli/main.py)."""

from __future__ import annotations

import asyncio
import hmac
import time

from entrypoints.http import routes
from entrypoints.http.edge.exchange import Exchange
from entrypoints.http.edge.layer import EdgeConfig, Handler, Layer, route_of
from entrypoints.http.edge.request_log import CLIENT_CLOSED_REQUEST
from entrypoints.http.errors import error_body


class RequestMetrics(Layer):
    def __init__(self, inner: Handler, config: EdgeConfig) -> None:
        super().__init__(inner, config)
        assert config.metrics is not None
        self._metrics = config.metrics
        self._scrape = config.scrape
        self._config = config
        self._expected = (
            None if config.metrics_token is None else b"Bearer " + config.metrics_token.encode()
        )

    @staticmethod
    def needed(config: EdgeConfig) -> bool:
        return config.metrics is not None

    async def __call__(self, exchange: Exchange) -> None:
        if exchange.path == routes.METRICS and self._scrape is not None:
            await self._answer_scrape(exchange)
            return
        metrics = self._metrics
        metrics.request_started()
        started = time.perf_counter()
        try:
            await self.inner(exchange)
        finally:
            metrics.request_finished(
                exchange.method,
                route_of(exchange, self._config),
                CLIENT_CLOSED_REQUEST if exchange.client_gone else exchange.status,
                time.perf_counter() - started,
            )

    async def _answer_scrape(self, exchange: Exchange) -> None:
        assert self._scrape is not None
        supplied = exchange.headers.get(b"authorization")
        if self._expected is not None and (
            supplied is None or not hmac.compare_digest(supplied, self._expected)
        ):
            body = error_body("Metrics need METRICS_TOKEN as a Bearer token")
            await exchange.send_json(401, body, {"www-authenticate": "Bearer"})
            return
        # Reading every worker's file is blocking I/O: off the event loop.
        payload, content_type = await asyncio.to_thread(self._scrape)
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(payload)).encode()),
            (b"cache-control", b"no-store"),
        ]
        await exchange.send({"type": "http.response.start", "status": 200, "headers": headers})
        await exchange.send({"type": "http.response.body", "body": payload})
