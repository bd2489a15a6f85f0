"""What an operator sees of a worker: its metrics (the port's Prometheus adapter, or
none when METRICS_ENABLED is off), the scrape the API port answers, the sampler of the
levels a scrape shows, and tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set.

The tracing modules are imported only then: with tracing off not even the
OpenTelemetry API is loaded, and no request or statement pays for it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.background import PeriodicTask
from adapters.postgres.pool import KeygatePool
from adapters.postgres.request_logs import PostgresRequestLogSink
from adapters.prometheus.metrics import PrometheusMetrics
from adapters.prometheus.sampler import GaugeSampler
from adapters.prometheus.scrape import exposition
from entrypoints.settings import Settings

if TYPE_CHECKING:
    from adapters.tracing.spans import RequestTracing

# How fresh a scrape's levels are (buffered rows, pool, webhook queue).
SAMPLE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Observability:
    metrics: PrometheusMetrics | None
    # GET /metrics on the API port; None when METRICS_PORT gives it a port of its own.
    scrape: Callable[[], tuple[bytes, str]] | None
    tracing: RequestTracing | None
    tracer_provider: Any = None

    def cursor_factory(self) -> type | None:
        return None if self.tracing is None else self.tracing.cursor_factory()

    # A service: at the end of a run the spans still batched are sent.
    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        shutdown = getattr(self.tracer_provider, "shutdown", None)
        if shutdown is not None:
            await asyncio.to_thread(shutdown)


def observability_of(settings: Settings, tracer_provider: Any = None) -> Observability:
    """`tracer_provider`: the tests' (an in-memory exporter); else OTLP when configured."""
    metrics = PrometheusMetrics() if settings.metrics_enabled else None
    scrape = None
    if metrics is not None and settings.metrics_port is None:
        registry = metrics.registry
        scrape = lambda: exposition(registry)  # noqa: E731
    if tracer_provider is None and settings.otel_endpoint:
        from adapters.tracing.provider import otlp_provider

        tracer_provider = otlp_provider(settings.otel_service_name)
    tracing = None
    if tracer_provider is not None:
        from adapters.tracing.spans import RequestTracing

        tracing = RequestTracing(tracer_provider)
    return Observability(metrics, scrape, tracing, tracer_provider)


class _Idle:
    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


def gauge_sampler(
    metrics: PrometheusMetrics | None, pool: KeygatePool, sink: PostgresRequestLogSink
) -> PeriodicTask | _Idle:
    if metrics is None:
        return _Idle()
    return PeriodicTask(
        name="metrics-sample",
        interval=SAMPLE_SECONDS,
        job=GaugeSampler(metrics, pool, sink).sample,
        # Not at start: a database still down would hold the start up by DB_TIMEOUT.
        at_stop=False,
    )
