"""A key's fields as request bodies declare them: the constraints the domain enforces,
stated for the OpenAPI document (and checked by msgspec before the domain sees them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from domain.credits import MAX_CREDITS
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


Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_CREDITS)]


class RefillBody(msgspec.Struct, forbid_unknown_fields=True):
    interval: Literal["daily", "monthly"]
    amount: Count


class CreditsBody(msgspec.Struct, forbid_unknown_fields=True):
    """Usage credits (admin only): the count to spend, one per admitted request, and an
    optional refill that sets it to `amount` at 00:00 UTC (daily) or on the 1st
    (monthly). In a PATCH, `remaining` sets the count (a top-up) and a refill not sent
    stays as it was."""

    remaining: Count
    refill: RefillBody | msgspec.UnsetType | None = msgspec.UNSET


def credits_json(body: CreditsBody | None) -> dict[str, object] | None:
    """The credits as the domain reads them (JSON-shaped), a refill not sent left out."""
    if body is None:
        return None
    sent: dict[str, object] = {"remaining": body.remaining}
    if body.refill is not msgspec.UNSET:
        sent["refill"] = None if body.refill is None else msgspec.to_builtins(body.refill)
    return sent
