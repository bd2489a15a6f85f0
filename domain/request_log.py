from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    method: str
    path: str
    status_code: int
    response_time_ms: float
    ip_address: str | None
    api_key_id: int | None
    created_at: datetime
