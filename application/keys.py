"""API key use cases: authenticate, issue, list, get, revoke (rotate and update are in
application/key_changes.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from application.ports.clock import Clock
from application.ports.errors import StoreUnavailable
from application.ports.keys import ApiKeyRepository, KeyFinder, NewKey, UsageRecorder
from application.ports.uow import UnitOfWorkFactory
from domain.audit import Origin, actor_of, key_issued, key_revoked
from domain.errors import (
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    Unauthenticated,
)
from domain.key_lifecycle import check_expiry
from domain.key_requests import KeyRequest, authorize_issue, granted_limits
from domain.keys import (
    ApiKey,
    Caller,
    IssuedKey,
    KeyState,
    UserId,
    can_see,
    display_prefix,
    generate_raw_key,
    hash_key,
    is_admin,
    validate_user_id,
)
from domain.pagination import (
    PageInfo,
    PageRequest,
    SignedCursors,
    cursor_error,
    keyset_page,
    page_with_cursor,
)


class Authenticate:
    def __init__(self, finder: KeyFinder, usage: UsageRecorder, clock: Clock) -> None:
        self._finder = finder
        self._usage = usage
        self._clock = clock

    async def __call__(self, raw_key: str) -> ApiKey:
        if not raw_key:
            raise Unauthenticated("Empty API key", reason="empty")
        try:
            key = await self._finder.find_by_hash(hash_key(raw_key))
        except StoreUnavailable:
            raise ServiceUnavailable("Authentication service unavailable") from None
        # The key is judged once, now: a request that was let in finishes even if the
        # key expires while it runs.
        now = self._clock.now()
        state = None if key is None else key.state_at(now)
        if state is KeyState.EXPIRED:
            raise Unauthenticated("API key expired", reason="expired")
        if key is None or state is not KeyState.ACTIVE:
            raise Unauthenticated("Invalid or revoked API key")
        self._usage.touch(key.id, now)
        return key


class IssueKey:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *, self_service: bool = True) -> None:
        self._uow = uow
        self._clock = clock
        self._self_service = self_service

    async def __call__(
        self, request: KeyRequest, caller: Caller | None, new_user_id: UserId, *, origin: Origin
    ) -> IssuedKey:
        """Issue a key. Its owner is, in order: the admin's `userId`, the caller's user,
        or `new_user_id` for a self-service sign-up."""
        if caller is None and not self._self_service:
            raise PermissionDenied("Self-service registration is disabled")
        authorize_issue(caller, request)
        if request.expires_at is not None:
            check_expiry(request.expires_at, self._clock.now())
        user_id = request.user_id or (caller.user_id if isinstance(caller, ApiKey) else new_user_id)
        limits = granted_limits(caller, request)
        raw = generate_raw_key()
        new = NewKey(
            user_id=user_id,
            name=request.name,
            key_hash=hash_key(raw),
            prefix=display_prefix(raw),
            permissions=frozenset(p.value for p in request.permissions),
            rate_limit=limits.per_hour,
            expires_at=request.expires_at,
            rate_limit_per_minute=limits.per_minute,
            rate_limit_per_day=limits.per_day,
            credits=request.credits,
        )
        async with self._uow() as uow:
            key = await uow.keys.add(new)
            uow.record(key_issued(key, actor_of(caller, origin, user_id), origin))
        return IssuedKey(key=key, raw_key=raw)


async def visible_key(
    repo: ApiKeyRepository, caller: Caller, key_id: int, *, lock: bool = False
) -> ApiKey:
    """The key, if the caller may see it; another user's key is reported as absent."""
    key = await repo.get(key_id, lock=lock)
    if key is None or not can_see(caller, key.user_id):
        raise NotFound("API key not found")
    return key


KEYS_CURSOR = "keys"  # a resources cursor is never taken for a keys cursor


class ListKeys:
    def __init__(
        self, uow: UnitOfWorkFactory, codec: Callable[[], Awaitable[SignedCursors]]
    ) -> None:
        self._uow = uow
        self._codec = codec

    async def __call__(
        self,
        caller: Caller,
        user_id: UserId | None,
        page: PageRequest,
        cursor: str | None = None,
        *,
        page_given: bool = False,
    ) -> tuple[Sequence[ApiKey], PageInfo]:
        """An admin or operator sees every key, or `user_id`'s; anyone else their own.
        Paged by `page`, or by the keyset `cursor` of a previous answer's nextCursor."""
        if isinstance(caller, ApiKey) and not is_admin(caller):
            if user_id is not None:
                raise PermissionDenied("Only an admin key may filter keys by userId")
            user_id = caller.user_id
        elif user_id:
            validate_user_id(user_id)
        codec = await self._codec()
        after_id = None
        if cursor is not None:
            if page_given:
                raise page_with_cursor()
            after_id = _after_id(codec.open(cursor), user_id)
        async with self._uow() as uow:
            keys, total = await uow.keys.list(user_id, page, after_id, page.limit + 1)
        return keyset_page(
            page,
            total,
            keys,
            by_cursor=after_id is not None,
            cursor_after=lambda last: codec.seal([KEYS_CURSOR, user_id, last.id]),
        )


def _after_id(items: list[object], user_id: UserId | None) -> int:
    if len(items) != 3 or items[0] != KEYS_CURSOR or type(items[2]) is not int:
        raise cursor_error()
    if items[1] != user_id:
        raise cursor_error("was issued for a different userId")
    return items[2]


class GetKey:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, caller: Caller, key_id: int) -> ApiKey:
        async with self._uow() as uow:
            return await visible_key(uow.keys, caller, key_id)


class RevokeKey:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, caller: Caller, key_id: int, *, origin: Origin) -> None:
        """Revoking a revoked key changes nothing and records nothing."""
        async with self._uow() as uow:
            key = await visible_key(uow.keys, caller, key_id, lock=True)
            if await uow.keys.deactivate(key_id):
                uow.record(key_revoked(key, actor_of(caller, origin), origin))
