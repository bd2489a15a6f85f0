"""Wire shapes of keys (camelCase JSON), shared by the HTTP API and the CLI's --json."""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.keys import ApiKey, IssuedKey

SAVE_MESSAGE = "Save this key — it will not be shown again."


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


class KeyView(msgspec.Struct, rename="camel"):
    id: int
    name: str
    prefix: str
    user_id: str
    permissions: list[str]
    rate_limit: int
    is_active: bool
    last_used_at: str | None
    created_at: str

    @classmethod
    def of(cls, key: ApiKey) -> KeyView:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            user_id=key.user_id,
            permissions=sorted(p.value for p in key.permissions),
            rate_limit=key.rate_limit,
            is_active=key.is_active,
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
    created_at: str
    message: str = SAVE_MESSAGE

    @classmethod
    def of(cls, issued: IssuedKey) -> IssuedKeyView:
        key = issued.key
        return cls(
            id=key.id,
            key=issued.raw_key,
            prefix=key.prefix,
            name=key.name,
            user_id=key.user_id,
            permissions=sorted(p.value for p in key.permissions),
            rate_limit=key.rate_limit,
            created_at=iso(key.created_at) or "",
        )
