"""Per-request state the outer layer establishes and handlers read."""

from __future__ import annotations

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


def context_of(scope: Any) -> RequestContext:
    ctx = scope.get(SCOPE_KEY)
    if ctx is None:
        ctx = scope[SCOPE_KEY] = RequestContext(request_id="-")
    return ctx  # type: ignore[no-any-return]
