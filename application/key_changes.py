"""Changing an issued key: rotate it (with a grace period) and update it (PATCH)."""

from __future__ import annotations

from application.keys import visible_key
from application.ports.clock import Clock
from application.ports.keys import NewKey
from application.ports.uow import UnitOfWorkFactory
from domain.audit import Origin, actor_of, key_rotated, key_updated
from domain.credits import CreditsSetting
from domain.errors import Conflict
from domain.key_lifecycle import PATCH_FIELDS, KeyPatch, plan_patch, rotation_end
from domain.key_requests import KeyRequest, authorize_issue
from domain.keys import (
    ApiKey,
    Caller,
    IssuedKey,
    display_prefix,
    generate_raw_key,
    hash_key,
    is_admin,
)


def successor(old: ApiKey, raw: str) -> NewKey:
    """The new key of a rotation: everything the old one was configured with, its own
    expiry included (not the end of the old key's grace period)."""
    return NewKey(
        user_id=old.user_id,
        name=old.name,
        key_hash=hash_key(raw),
        prefix=display_prefix(raw),
        permissions=frozenset(p.value for p in old.permissions),
        rate_limit=old.rate_limit,
        expires_at=old.expires_at,
        rate_limit_per_minute=old.rate_limit_per_minute,
        rate_limit_per_day=old.rate_limit_per_day,
        credits=_credits_of(old),
        quota_key_id=old.quota_id,
        credits_version=old.credits.version if old.credits else None,
    )


def _credits_of(old: ApiKey) -> CreditsSetting | None:
    # The setting last made, at its version: the store's count of it goes on.
    rule = old.credits
    return None if rule is None else CreditsSetting(rule.remaining, rule.refill)


class RotateKey:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(
        self, caller: Caller, key_id: int, grace_seconds: int = 0, *, origin: Origin
    ) -> IssuedKey:
        """A new key like the old one, in one transaction with the old one's end: at
        once, or after `grace_seconds` (never after its own expiry). The old key is
        held locked while this runs, so of concurrent rotations of one key exactly one
        succeeds and the others find it rotated (a 409)."""
        raw = generate_raw_key()
        async with self._uow() as uow:
            old = await visible_key(uow.keys, caller, key_id, lock=True)
            # Rotating hands out a new key with the old one's rights: only for callers
            # who could have issued those rights themselves.
            authorize_issue(caller, KeyRequest(name=old.name, permissions=old.permissions))
            ends_at = rotation_end(old, self._clock.now(), grace_seconds)
            key = await uow.keys.add(successor(old, raw))
            if not await uow.keys.retire(key_id, key.id, ends_at):
                raise Conflict("API key was rotated or revoked meanwhile")
            uow.record(key_rotated(old, key, ends_at, actor_of(caller, origin), origin))
        return IssuedKey(key=key, raw_key=raw)


class UpdateKey:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(
        self, caller: Caller, key_id: int, patch: KeyPatch, *, origin: Origin
    ) -> ApiKey:
        """Apply a merge patch (see domain.key_lifecycle.plan_patch for who may change
        what). A patch that changes nothing writes nothing and records nothing."""
        async with self._uow() as uow:
            key = await visible_key(uow.keys, caller, key_id, lock=True)
            changes = plan_patch(key, patch, admin=is_admin(caller), now=self._clock.now())
            if not changes:
                return key
            updated = await uow.keys.update(key_id, {f: new for f, (_, new) in changes.items()})
            by_wire = {PATCH_FIELDS[f]: change for f, change in changes.items()}
            uow.record(key_updated(updated, by_wire, actor_of(caller, origin), origin))
        return updated
