"""api_keys in memory: the repository, the finder and the usage recorder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from application.ports.errors import StoreUnavailable
from application.ports.keys import UPDATABLE, NewKey
from domain.audit import AuditEvent
from domain.credits import CreditRule
from domain.keys import ApiKey, Permission, UserId
from domain.pagination import PageRequest
from tests.fakes.audit import InMemoryAuditLog, PendingEvents
from tests.fakes.clock import FakeClock


class InMemoryKeys:
    """api_keys as a dict: the repository, the finder and the unit of work in one."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.rows: dict[int, tuple[ApiKey, str]] = {}
        self.unavailable = False
        self.commits = 0
        self.audit = InMemoryAuditLog(clock)
        self._events = PendingEvents(self.audit)

    # UnitOfWork
    def __call__(self) -> InMemoryKeys:
        return self

    @property
    def keys(self) -> InMemoryKeys:
        return self

    async def __aenter__(self) -> InMemoryKeys:
        self._snapshot = self.snapshot()
        self._events.begin()
        return self

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.commits += 1
        else:
            self.restore(self._snapshot)
        self._events.end(committed=exc_type is None)

    def record(self, event: AuditEvent) -> None:
        self._events.record(event)

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
            created_at=self.clock.now(),
            expires_at=new.expires_at,
            rate_limit_per_minute=new.rate_limit_per_minute,
            rate_limit_per_day=new.rate_limit_per_day,
            credits=_rule(new, self.clock.now()),
            quota_key_id=new.quota_key_id,
        )
        self.rows[key_id] = (key, new.key_hash)
        return key

    async def get(self, key_id: int, *, lock: bool = False) -> ApiKey | None:
        # One unit of work at a time: nothing to lock against.
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

    async def retire(self, key_id: int, replaced_by: int, ends_at: datetime | None) -> bool:
        row = self.rows.get(key_id)
        if row is None or not row[0].is_active or row[0].replaced_by is not None:
            return False
        key = row[0]
        retired = replace(
            key,
            replaced_by=replaced_by,
            is_active=ends_at is not None,
            expires_at=key.expires_at if ends_at is None else ends_at,
        )
        self.rows[key_id] = (retired, row[1])
        return True

    async def update(self, key_id: int, values: Mapping[str, object]) -> ApiKey:
        assert set(values) <= UPDATABLE
        key, key_hash = self.rows[key_id]
        updated = replace(key, **values)  # type: ignore[arg-type]
        self.rows[key_id] = (updated, key_hash)
        return updated

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


def _rule(new: NewKey, now: datetime) -> CreditRule | None:
    if new.credits is None:
        return None
    version = new.credits_version or int(now.timestamp() * 1e6)
    return CreditRule(version, new.credits.remaining, new.credits.refill)
