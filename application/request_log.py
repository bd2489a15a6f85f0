from __future__ import annotations

from typing import Protocol

from domain.request_log import RequestLogEntry


class RequestLogSink(Protocol):
    def record(self, entry: RequestLogEntry) -> None:
        """Accept one row without waiting; the adapter writes it soon after."""
        ...
