"""API key use cases: issue, authenticate, list, revoke, rotate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from application.ports.clock import Clock
from application.ports.errors import StoreUnavailable
from application.ports.keys import ApiKeyRepository, KeyFinder, NewKey, UsageRecorder
from application.ports.uow import UnitOfWorkFactory
from domain.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    Unauthenticated,
)
from domain.keys import (
    ApiKey,
    Caller,
    IssuedKey,
    KeyRequest,
    UserId,
    authorize_issue,
    can_see,
    display_prefix,
    generate_raw_key,
    granted_limits,
    hash_key,
    is_admin,
    validate_user_id,
)
from domain.pagination import (
    PageInfo,
    PageRequest,
    SignedCursors,
    cursor_error,
    page_info,
    page_with_cursor,
)


class Authenticate:
    def __init__(self, finder: KeyFinder, usage: UsageRecorder, clock: Clock) -> None:
        self._finder = finder
        self._usage = usage
        self._clock = clock

    async def __call__(self, raw_key: str) -> ApiKey:
        if not raw_key:
            raise Unauthenticated("Empty API key")
        try:
            key = await self._finder.find_by_hash(hash_key(raw_key))
        except StoreUnavailable:
            raise ServiceUnavailable("Authentication service unavailable") from None
        now = self._clock.now()
        if key is None or not key.usable_at(now):
            raise Unauthenticated("Invalid or revoked API key")
        self._usage.touch(key.id, now)
        return key


class IssueKey:
    def __init__(self, uow: UnitOfWorkFactory, *, self_service: bool = True) -> None:
        self._uow = uow
        self._self_service = self_service

    async def __call__(
        self, request: KeyRequest, caller: Caller | None, new_user_id: UserId
    ) -> IssuedKey:
        """Issue a key. Its owner is, in order: the admin's `userId`, the caller's user,
        or `new_user_id` for a self-service sign-up."""
        if caller is None and not self._self_service:
            raise PermissionDenied("Self-service registration is disabled")
        authorize_issue(caller, request)
        user_id = request.user_id or (caller.user_id if isinstance(caller, ApiKey) else new_user_id)
        raw = generate_raw_key()
        new = NewKey(
            user_id=user_id,
            name=request.name,
            key_hash=hash_key(raw),
            prefix=display_prefix(raw),
            permissions=frozenset(p.value for p in request.permissions),
            rate_limit=granted_limits(caller, request).per_hour,
        )
        async with self._uow() as uow:
            key = await uow.keys.add(new)
        return IssuedKey(key=key, raw_key=raw)


async def _visible_key(repo: ApiKeyRepository, caller: Caller, key_id: int) -> ApiKey:
    """The key, if the caller may see it; another user's key is reported as absent."""
    key = await repo.get(key_id)
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
        items = keys[: page.limit]
        info = page_info(page, total)
        if after_id is not None:
            info = replace(info, page=None, has_next=len(keys) > page.limit)
        if info.has_next and items:
            info = replace(info, next_cursor=codec.seal([KEYS_CURSOR, user_id, items[-1].id]))
        return items, info


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
            return await _visible_key(uow.keys, caller, key_id)


class RevokeKey:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, caller: Caller, key_id: int) -> None:
        async with self._uow() as uow:
            await _visible_key(uow.keys, caller, key_id)
            await uow.keys.deactivate(key_id)


class RotateKey:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, caller: Caller, key_id: int) -> IssuedKey:
        """A new key like the old one; the old one is revoked in the same transaction."""
        raw = generate_raw_key()
        async with self._uow() as uow:
            old = await _visible_key(uow.keys, caller, key_id)
            # Rotating hands out a new key with the old one's rights: only for callers
            # who could have issued those rights themselves.
            authorize_issue(caller, KeyRequest(name=old.name, permissions=old.permissions))
            if not await uow.keys.deactivate(key_id):
                raise Conflict("API key is already revoked; only an active key can be rotated")
            key = await uow.keys.add(
                NewKey(
                    user_id=old.user_id,
                    name=old.name,
                    key_hash=hash_key(raw),
                    prefix=display_prefix(raw),
                    permissions=frozenset(p.value for p in old.permissions),
                    rate_limit=old.rate_limit,
                )
            )
        return IssuedKey(key=key, raw_key=raw)
