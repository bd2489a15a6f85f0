"""api_keys in memory: the repository, the finder and the usage recorder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from application.ports.errors import StoreUnavailable
from application.ports.keys import NewKey
from domain.keys import ApiKey, Permission, UserId
from domain.pagination import PageRequest
from tests.fakes.clock import FakeClock


class InMemoryKeys:
    """api_keys as a dict: the repository, the finder and the unit of work in one."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self.rows: dict[int, tuple[ApiKey, str]] = {}
        self.unavailable = False
        self.commits = 0

    # UnitOfWork
    def __call__(self) -> InMemoryKeys:
        return self

    @property
    def keys(self) -> InMemoryKeys:
        return self

    async def __aenter__(self) -> InMemoryKeys:
        self._snapshot = self.snapshot()
        return self

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.commits += 1
        else:
            self.restore(self._snapshot)

    def snapshot(self) -> object:
        return dict(self.rows)

    def restore(self, state: object) -> None:
        assert isinstance(state, dict)
        self.rows = state

    # ApiKeyRepository
    async def add(self, new: NewKey) -> ApiKey:
        key_id = max(self.rows, default=0) + 1
        key = ApiKey(
            id=key_id,
            user_id=new.user_id,
            name=new.name,
            prefix=new.prefix,
            permissions=frozenset(Permission(p) for p in new.permissions),
            rate_limit=new.rate_limit,
            is_active=True,
            created_at=self._clock.now(),
        )
        self.rows[key_id] = (key, new.key_hash)
        return key

    async def get(self, key_id: int) -> ApiKey | None:
        row = self.rows.get(key_id)
        return row[0] if row else None

    async def list(
        self, user_id: UserId | None, page: PageRequest, after_id: int | None, fetch: int
    ) -> tuple[Sequence[ApiKey], int]:
        keys = sorted(
            (k for k, _ in self.rows.values() if user_id is None or k.user_id == user_id),
            key=lambda k: k.id,
        )
        if after_id is not None:
            return [k for k in keys if k.id > after_id][:fetch], len(keys)
        return keys[page.offset : page.offset + fetch], len(keys)

    async def deactivate(self, key_id: int) -> bool:
        row = self.rows.get(key_id)
        if row is None or not row[0].is_active:
            return False
        self.rows[key_id] = (replace(row[0], is_active=False), row[1])
        return True

    # KeyFinder
    async def find_by_hash(self, key_hash: str) -> ApiKey | None:
        if self.unavailable:
            raise StoreUnavailable("down")
        return next((k for k, h in self.rows.values() if h == key_hash), None)


class RecordingUsage:
    def __init__(self) -> None:
        self.touched: list[tuple[int, datetime]] = []

    def touch(self, key_id: int, at: datetime) -> None:
        self.touched.append((key_id, at))


_caller_ids = iter(range(1000, 10**9))


def make_caller(user_id: UserId, *permissions: Permission, rate_limit: int = 100) -> ApiKey:
    """An authenticated key as a use case receives it, without issuing one."""
    return ApiKey(
        id=next(_caller_ids),
        user_id=user_id,
        name="caller",
        prefix="rk_caller",
        permissions=frozenset(permissions),
        rate_limit=rate_limit,
        is_active=True,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
