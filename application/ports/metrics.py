"""What the application and the adapters count, for an operator to scrape.

Counting happens where the event does (a quota decision in CheckQuota, a written
request-log batch in its sink); how it is exposed (Prometheus, nothing) is the
adapter's business. Every label value passed here comes from a small closed set:
never a key, a user id or a raw path.
"""

from __future__ import annotations

from typing import Literal, Protocol

QuotaOutcome = Literal["admitted", "rejected", "unavailable"]
WebhookOutcome = Literal["succeeded", "failed", "retry"]


class Metrics(Protocol):
    def request_started(self) -> None:
        """An HTTP request came in (the active-requests gauge goes up)."""
        ...

    def request_finished(self, method: str, route: str, status: int, seconds: float) -> None:
        """It was answered: `route` is the matched template (e.g. /api/v1/keys/{key_id}),
        or "" when no route matched."""
        ...

    def quota_decision(self, outcome: QuotaOutcome) -> None: ...

    def auth_failure(self, reason: str) -> None:
        """A presented (or missing) key was refused: missing, empty, expired, invalid."""
        ...

    def request_log_written(self, rows: int) -> None: ...

    def request_log_dropped(self, rows: int) -> None: ...

    def webhook_delivery(self, outcome: WebhookOutcome) -> None: ...


class NoMetrics:
    """Counts nothing: metrics switched off, and the default of everything that counts."""

    def request_started(self) -> None:
        pass

    def request_finished(self, method: str, route: str, status: int, seconds: float) -> None:
        pass

    def quota_decision(self, outcome: QuotaOutcome) -> None:
        pass

    def auth_failure(self, reason: str) -> None:
        pass

    def request_log_written(self, rows: int) -> None:
        pass

    def request_log_dropped(self, rows: int) -> None:
        pass

    def webhook_delivery(self, outcome: WebhookOutcome) -> None:
        pass
