"""Ports of the key use cases: the key repository, the finder and the usage recorder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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


class ApiKeyRepository(Protocol):
    async def add(self, new: NewKey) -> ApiKey: ...

    async def get(self, key_id: int) -> ApiKey | None: ...

    async def list(
        self, user_id: UserId | None, page: PageRequest, after_id: int | None, fetch: int
    ) -> tuple[Sequence[ApiKey], int]:
        """Up to `fetch` keys in id order: after `after_id` when given, else from the
        page's offset; and how many keys match in all."""
        ...

    async def deactivate(self, key_id: int) -> bool:
        """Revoke; True when the key was active until now."""
        ...


class KeyFinder(Protocol):
    """Finds a key by the hash of its raw value (an adapter may answer from a cache)."""

    async def find_by_hash(self, key_hash: str) -> ApiKey | None: ...


class UsageRecorder(Protocol):
    """Notes that a key was used; the adapter writes it later, off the request path."""

    def touch(self, key_id: int, at: datetime) -> None: ...
