"""Wire shapes of keys (camelCase JSON), shared by the HTTP API and the CLI's --json."""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.credits import CreditRule
from domain.keys import ApiKey, IssuedKey
from domain.times import wire_time

SAVE_MESSAGE = "Save this key — it will not be shown again."


def iso(value: datetime | None) -> str | None:
    return wire_time(value)


class RefillView(msgspec.Struct, rename="camel"):
    interval: str  # "daily" or "monthly"
    amount: int


class CreditsView(msgspec.Struct, rename="camel"):
    """Usage credits of a metered key (null: unmetered): what is left to spend."""

    remaining: int
    refill: RefillView | None

    @classmethod
    def of(cls, rule: CreditRule | None, left: int | None = None) -> CreditsView | None:
        """`left`: the count the quota store holds; None: the number last set."""
        if rule is None:
            return None
        refill = RefillView(rule.refill.interval, rule.refill.amount) if rule.refill else None
        return cls(rule.remaining if left is None else left, refill)


class KeyView(msgspec.Struct, rename="camel"):
    id: int
    name: str
    prefix: str
    user_id: str
    permissions: list[str]
    rate_limit: int
    rate_limit_per_minute: int | None
    rate_limit_per_day: int | None
    credits: CreditsView | None
    is_active: bool
    expires_at: str | None
    last_used_at: str | None
    created_at: str

    @classmethod
    def of(cls, key: ApiKey, credits_left: int | None = None) -> KeyView:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            user_id=key.user_id,
            permissions=sorted(p.value for p in key.permissions),
            rate_limit=key.rate_limit,
            rate_limit_per_minute=key.rate_limit_per_minute,
            rate_limit_per_day=key.rate_limit_per_day,
            credits=CreditsView.of(key.credits, credits_left),
            is_active=key.is_active,
            expires_at=iso(key.expires_at),
            last_used_at=iso(key.last_used_at),
            created_at=iso(key.created_at) or "",
        )


class IssuedKeyView(msgspec.Struct, rename="camel"):
    id: int
    key: str
    prefix: str
    name: str
    user_id: str
    permissions: list[str]
    rate_limit: int
    rate_limit_per_minute: int | None
    rate_limit_per_day: int | None
    credits: CreditsView | None
    expires_at: str | None
    created_at: str
    message: str = SAVE_MESSAGE

    @classmethod
    def of(cls, issued: IssuedKey, credits_left: int | None = None) -> IssuedKeyView:
        key = issued.key
        return cls(
            id=key.id,
            key=issued.raw_key,
            prefix=key.prefix,
            name=key.name,
            user_id=key.user_id,
            permissions=sorted(p.value for p in key.permissions),
            rate_limit=key.rate_limit,
            rate_limit_per_minute=key.rate_limit_per_minute,
            rate_limit_per_day=key.rate_limit_per_day,
            credits=CreditsView.of(key.credits, credits_left),
            expires_at=iso(key.expires_at),
            created_at=iso(key.created_at) or "",
        )
