"""What an operator sees of a worker: its metrics (the port's Prometheus adapter, or
none when METRICS_ENABLED is off), the scrape the API port answers, and the sampler of
the levels a scrape shows."""

from __future__ import annotations

from collections.abc import Callable

from adapters.background import PeriodicTask
from adapters.postgres.pool import KeygatePool
from adapters.postgres.request_logs import PostgresRequestLogSink
from adapters.prometheus.metrics import PrometheusMetrics
from adapters.prometheus.sampler import GaugeSampler
from adapters.prometheus.scrape import exposition
from entrypoints.settings import Settings

# How fresh a scrape's levels are (buffered rows, pool, webhook queue).
SAMPLE_SECONDS = 2.0


def metrics_of(settings: Settings) -> PrometheusMetrics | None:
    return PrometheusMetrics() if settings.metrics_enabled else None


def scrape_of(
    metrics: PrometheusMetrics | None, settings: Settings
) -> Callable[[], tuple[bytes, str]] | None:
    """GET /metrics on the API port; not there when METRICS_PORT gives it a port."""
    if metrics is None or settings.metrics_port is not None:
        return None
    registry = metrics.registry
    return lambda: exposition(registry)


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
        at_start=True,
        at_stop=False,
    )
