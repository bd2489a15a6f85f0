"""The metrics port in memory: what was counted, by name and label."""

from __future__ import annotations

from collections import Counter

from application.ports.metrics import QuotaOutcome, WebhookOutcome


class CountingMetrics:
    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def request_started(self) -> None:
        self.counts["active", ""] += 1

    def request_finished(self, method: str, route: str, status: int, seconds: float) -> None:
        self.counts["active", ""] -= 1
        self.counts["request", f"{method} {route} {status}"] += 1

    def quota_decision(self, outcome: QuotaOutcome) -> None:
        self.counts["quota", outcome] += 1

    def auth_failure(self, reason: str) -> None:
        self.counts["auth", reason] += 1

    def request_log_written(self, rows: int) -> None:
        self.counts["log written", ""] += rows

    def request_log_dropped(self, rows: int) -> None:
        self.counts["log dropped", ""] += rows

    def webhook_delivery(self, outcome: WebhookOutcome) -> None:
        self.counts["webhook", outcome] += 1
