"""Ports of the key use cases: the key repository, the finder and the usage recorder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.credits import CreditsSetting
from domain.keys import ApiKey, UserId
from domain.pagination import PageRequest


@dataclass(frozen=True, slots=True)
class NewKey:
    user_id: UserId
    name: str
    key_hash: str
    prefix: str
    permissions: frozenset[str]
    rate_limit: int
    expires_at: datetime | None = None
    rate_limit_per_minute: int | None = None
    rate_limit_per_day: int | None = None
    credits: CreditsSetting | None = None
    # A rotation's successor: the quota it carries on, and the version of the credits it
    # carries (so the store goes on counting instead of starting from the number set).
    quota_key_id: int | None = None
    credits_version: int | None = None


# What `ApiKeyRepository.update` may set: attribute names of ApiKey.
UPDATABLE = frozenset(
    {"name", "expires_at", "rate_limit", "rate_limit_per_minute", "rate_limit_per_day", "credits"}
)


class ApiKeyRepository(Protocol):
    """Keys within one unit of work. Every method that changes a key makes every
    instance's key cache forget it once the unit of work commits."""

    async def add(self, new: NewKey) -> ApiKey: ...

    async def get(self, key_id: int, *, lock: bool = False) -> ApiKey | None:
        """The key; with `lock`, held against other changes until the unit of work ends."""
        ...

    async def list(
        self, user_id: UserId | None, page: PageRequest, after_id: int | None, fetch: int
    ) -> tuple[Sequence[ApiKey], int]:
        """Up to `fetch` keys in id order: after `after_id` when given, else from the
        page's offset; and how many keys match in all."""
        ...

    async def deactivate(self, key_id: int) -> bool:
        """Revoke; True when the key was active until now."""
        ...

    async def retire(self, key_id: int, replaced_by: int, ends_at: datetime | None) -> bool:
        """End a rotated key: revoke it now (`ends_at` None) or let it expire at `ends_at`,
        and name its successor. False, changing nothing, when the key is no longer
        active or was already rotated."""
        ...

    async def update(self, key_id: int, values: Mapping[str, object]) -> ApiKey:
        """Set the given attributes (names from UPDATABLE); the key as it is now."""
        ...


class KeyFinder(Protocol):
    """Finds a key by the hash of its raw value (an adapter may answer from a cache)."""

    async def find_by_hash(self, key_hash: str) -> ApiKey | None: ...


class UsageRecorder(Protocol):
    """Notes that a key was used; the adapter writes it later, off the request path."""

    def touch(self, key_id: int, at: datetime) -> None: ...
