"""A key's fields as request bodies declare them: the constraints the domain enforces,
stated for the OpenAPI document (and checked by msgspec before the domain sees them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from domain.key_lifecycle import MAX_GRACE_SECONDS, MAX_LIFETIME_YEARS
from domain.keys import MAX_RATE_LIMIT, NAME_MAX
from entrypoints.http.openapi import NOT_BLANK, documented

KeyName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=NAME_MAX), documented(pattern=NOT_BLANK)
]
RateLimit = Annotated[
    int,
    msgspec.Meta(ge=1, le=MAX_RATE_LIMIT, description="Requests per rolling hour (admin only)."),
]
RateLimitPerMinute = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=MAX_RATE_LIMIT,
        description="Requests per rolling minute (admin only); null: no such window.",
    ),
]
RateLimitPerDay = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=MAX_RATE_LIMIT,
        description="Requests per rolling day (admin only); null: no such window.",
    ),
]
ExpiresAt = Annotated[
    datetime,
    msgspec.Meta(
        tz=True,
        description="The instant the key stops working (401 API key expired): an ISO 8601 "
        f"time with a zone, in the future and at most {MAX_LIFETIME_YEARS} years ahead.",
    ),
]
GracePeriod = Annotated[
    int,
    msgspec.Meta(
        ge=0,
        le=MAX_GRACE_SECONDS,
        description="Seconds the old key keeps working (never past its own expiresAt); "
        "0: it is revoked at once.",
    ),
]
