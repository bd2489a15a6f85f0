"""Per-request state the outer layer establishes and handlers read."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from domain.keys import ApiKey

SCOPE_KEY = "keygate"


@dataclass(slots=True)
class RequestContext:
    request_id: str
    version: int = 1
    client_ip: str | None = None
    api_key: ApiKey | None = None
    trace_id: str | None = None  # when tracing is on (edge/tracing.py)


# The request being served, for what has no scope at hand: log records (entrypoints/logs.py).
CURRENT: ContextVar[RequestContext | None] = ContextVar("keygate_request", default=None)


def context_of(scope: Any) -> RequestContext:
    ctx = scope.get(SCOPE_KEY)
    if ctx is None:
        ctx = scope[SCOPE_KEY] = RequestContext(request_id="-")
    return ctx  # type: ignore[no-any-return]
