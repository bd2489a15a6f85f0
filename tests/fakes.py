"""In-memory fakes of the ports, for unit tests of use cases.

They implement the same Protocols as the PostgreSQL adapters, and
the suites in tests/contract/ hold both to the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from application.keys import KeyStoreUnavailable
from application.ports.keys import NewKey
from application.quota import QuotaStoreUnavailable
from domain.keys import ApiKey, Permission, UserId
from domain.pagination import PageRequest
from domain.quota import QuotaDecision, Window, take


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class InMemoryQuotaStore:
    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._windows: dict[str, Window] = {}
        self.unavailable = False

    async def take(self, subject: str, limit: int) -> QuotaDecision:
        if self.unavailable:
            raise QuotaStoreUnavailable("down")
        window, decision = take(self._windows.get(subject), limit, self._clock.now().timestamp())
        self._windows[subject] = window
        return decision


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
        self._snapshot = dict(self.rows)
        return self

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.commits += 1
        else:
            self.rows = self._snapshot

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
            raise KeyStoreUnavailable("down")
        return next((k for k, h in self.rows.values() if h == key_hash), None)


class RecordingUsage:
    def __init__(self) -> None:
        self.touched: list[tuple[int, datetime]] = []

    def touch(self, key_id: int, at: datetime) -> None:
        self.touched.append((key_id, at))
