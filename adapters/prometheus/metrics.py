"""The metrics port on prometheus-client, with the names and labels of the contract
(OpenTelemetry's HTTP semantic conventions in Prometheus form, then keygate's own).

Every metric lives in this object's own registry, so several containers in one process
(tests) never collide. Under `serve` the values go to the multi-process directory
instead (prometheus-client chooses that at import, from PROMETHEUS_MULTIPROC_DIR) and
the scrape adds up every worker's files (adapters/prometheus/scrape.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values

from application.ports.metrics import QuotaOutcome, WebhookOutcome

# OpenTelemetry's advice for http.server.request.duration.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
# Anything else is "_OTHER" (semantic conventions): a client cannot invent a series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
POOL_STATES = ("idle", "used", "waiting")


def _values_shared_with_other_workers() -> None:
    """prometheus-client picks how values are kept (in memory, or in the multi-process
    directory) when it is imported. granian forks its workers from `serve`, which
    imported it before it made the directory: a worker picks again, once."""
    if values.ValueClass is values.MutexValue:
        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


class PrometheusMetrics:
    def __init__(self) -> None:
        _values_shared_with_other_workers()
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self._duration = Histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests.",
            ("http_request_method", "http_route", "http_response_status_code"),
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self._active = _gauge(registry, "http_server_active_requests", "Active HTTP requests.")
        self._quota = _counter(registry, "keygate_quota_decisions", "Quota decisions.", "outcome")
        self._auth = _counter(
            registry, "keygate_auth_failures", "Refused authentications.", "reason"
        )
        self._log_written = _counter(
            registry, "keygate_request_log_written", "request_logs rows written."
        )
        self._log_dropped = _counter(
            registry, "keygate_request_log_dropped", "request_logs rows dropped."
        )
        self._webhooks = _counter(
            registry, "keygate_webhook_deliveries", "Webhook delivery attempts.", "outcome"
        )
        self._log_buffered = _gauge(
            registry, "keygate_request_log_buffered", "request_logs rows not written yet."
        )
        # Every worker counts the same shared queue: the scrape shows one of them.
        self._queue_depth = _gauge(
            registry, "keygate_webhook_queue_depth", "Webhook deliveries pending.", "livemax"
        )
        self._pool = _gauge(
            registry,
            "keygate_db_pool_connections",
            "Database pool connections by state (waiting: requests waiting for one).",
            labels=("state",),
        )
        for metric, labels in (
            (self._quota, ("admitted", "rejected", "unavailable")),
            (self._webhooks, ("succeeded", "failed", "retry")),
            (self._auth, ("missing", "empty", "expired", "invalid")),
            (self._pool, POOL_STATES),
        ):
            for value in labels:  # present from the first scrape, so rate() sees a zero
                metric.labels(value)
        # Label lookups cost more than the observation: children by their label values.
        self._children: dict[tuple[str, str, int], Histogram] = {}

    def request_started(self) -> None:
        self._active.inc()

    def request_finished(self, method: str, route: str, status: int, seconds: float) -> None:
        self._active.dec()
        if method not in METHODS:
            method = "_OTHER"  # before the cache too: it is as bounded as the labels
        key = (method, route, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._duration.labels(method, route, status)
        child.observe(seconds)

    def quota_decision(self, outcome: QuotaOutcome) -> None:
        self._quota.labels(outcome).inc()

    def auth_failure(self, reason: str) -> None:
        self._auth.labels(reason).inc()

    def request_log_written(self, rows: int) -> None:
        self._log_written.inc(rows)

    def request_log_dropped(self, rows: int) -> None:
        self._log_dropped.inc(rows)

    def webhook_delivery(self, outcome: WebhookOutcome) -> None:
        self._webhooks.labels(outcome).inc()

    def gauges(
        self, *, buffered: int, pool: Mapping[str, int], queue_depth: int | None = None
    ) -> None:
        """The levels, sampled now (adapters/prometheus/sampler.py)."""
        self._log_buffered.set(buffered)
        for state in POOL_STATES:
            self._pool.labels(state).set(pool.get(state, 0))
        if queue_depth is not None:
            self._queue_depth.set(queue_depth)


def _counter(registry: CollectorRegistry, name: str, doc: str, label: str = "") -> Counter:
    # prometheus-client adds the _total suffix to a counter's name.
    return Counter(name, doc, (label,) if label else (), registry=registry)


def _gauge(
    registry: CollectorRegistry,
    name: str,
    doc: str,
    mode: Literal["livesum", "livemax"] = "livesum",
    labels: tuple[str, ...] = (),
) -> Gauge:
    # live*: a worker that died stops counting (adapters/prometheus/scrape.py).
    return Gauge(name, doc, labels, registry=registry, multiprocess_mode=mode)
