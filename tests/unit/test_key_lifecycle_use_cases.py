"""Expiry, rotation with grace, PATCH and the audit events they record, on fakes with a
clock the test moves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.audit import ListAudit
from application.key_changes import RotateKey, UpdateKey
from application.keys import Authenticate, IssueKey, RevokeKey
from domain.audit import CLI, Action, Actor, AuditQuery, Origin, TargetType, Via
from domain.errors import Conflict, InvalidInput, PermissionDenied, Unauthenticated
from domain.key_lifecycle import KeyPatch
from domain.key_requests import KeyRequest
from domain.keys import OPERATOR, IssuedKey, KeyState, Permission
from domain.pagination import PageRequest, SignedCursors
from domain.times import wire_time
from tests.fakes import FakeClock, InMemoryKeys, RecordingUsage

R, W, A = Permission.READ, Permission.WRITE, Permission.ADMIN
API = Origin(Via.API, ip="10.0.0.9", request_id="req-1")


@pytest.fixture
def keys() -> InMemoryKeys:
    return InMemoryKeys(FakeClock())


async def issue(keys: InMemoryKeys, **fields: object) -> IssuedKey:
    request = KeyRequest("k", frozenset({R, W}), user_id="alice", **fields)  # type: ignore[arg-type]
    return await IssueKey(keys, keys.clock)(request, OPERATOR, "alice", origin=CLI)


async def test_authentication_says_expired_from_the_instant_of_expiry(keys: InMemoryKeys) -> None:
    issued = await issue(keys, expires_at=keys.clock.now() + timedelta(seconds=10))
    usage = RecordingUsage()
    authenticate = Authenticate(keys, usage, keys.clock)
    keys.clock.advance(9.999)
    assert (await authenticate(issued.raw_key)).id == issued.key.id
    keys.clock.advance(0.001)
    with pytest.raises(Unauthenticated, match=r"^API key expired$"):
        await authenticate(issued.raw_key)
    assert len(usage.touched) == 1  # an expired key's attempt is not a use


async def test_issuing_refuses_an_expiry_in_the_past_and_records_what_was_issued(
    keys: InMemoryKeys,
) -> None:
    with pytest.raises(InvalidInput, match="expiresAt"):
        await issue(keys, expires_at=keys.clock.now())
    expires = keys.clock.now() + timedelta(days=30)
    issued = await issue(keys, expires_at=expires, rate_limit=7, rate_limit_per_minute=2)
    (event,) = keys.audit.events
    assert (event.action, event.target_type, event.target_id) == (
        Action.KEY_ISSUED,
        TargetType.KEY,
        issued.key.id,
    )
    assert event.actor == Actor("operator", None, Via.CLI)
    assert event.changes == {
        "name": (None, "k"),
        "prefix": (None, issued.key.prefix),
        "userId": (None, "alice"),
        "permissions": (None, ["read", "write"]),
        "rateLimit": (None, 7),
        "rateLimitPerMinute": (None, 2),
        "expiresAt": (None, wire_time(expires)),
    }


async def test_a_rotation_with_grace_keeps_the_old_key_until_then_and_copies_everything(
    keys: InMemoryKeys,
) -> None:
    expires = keys.clock.now() + timedelta(days=30)
    old = await issue(keys, expires_at=expires, rate_limit=7, rate_limit_per_day=70)
    new = await RotateKey(keys, keys.clock)(OPERATOR, old.key.id, 3600, origin=CLI)
    assert (new.key.name, new.key.permissions, new.key.rate_limit) == ("k", frozenset({R, W}), 7)
    assert (new.key.rate_limit_per_day, new.key.expires_at) == (70, expires)
    retired = await keys.get(old.key.id)
    assert retired is not None and retired.replaced_by == new.key.id
    assert retired.expires_at == keys.clock.now() + timedelta(hours=1)
    authenticate = Authenticate(keys, RecordingUsage(), keys.clock)
    keys.clock.advance(3599)
    assert (await authenticate(old.raw_key)).id == old.key.id
    keys.clock.advance(1)
    with pytest.raises(Unauthenticated, match="expired"):
        await authenticate(old.raw_key)
    assert (await authenticate(new.raw_key)).id == new.key.id


async def test_a_key_in_its_grace_period_cannot_be_rotated_again(keys: InMemoryKeys) -> None:
    old = await issue(keys)
    rotate = RotateKey(keys, keys.clock)
    await rotate(OPERATOR, old.key.id, 60, origin=CLI)
    rows = len(keys.rows)
    with pytest.raises(Conflict, match="grace period"):
        await rotate(OPERATOR, old.key.id, 60, origin=CLI)
    assert len(keys.rows) == rows  # the refused rotation left no key behind
    assert [e.action for e in keys.audit.events] == [Action.KEY_ISSUED, Action.KEY_ROTATED]


async def test_a_grace_period_never_outlives_the_old_keys_expiry(keys: InMemoryKeys) -> None:
    old = await issue(keys, expires_at=keys.clock.now() + timedelta(minutes=5))
    await RotateKey(keys, keys.clock)(OPERATOR, old.key.id, 86400, origin=CLI)
    retired = await keys.get(old.key.id)
    assert retired is not None and retired.expires_at == old.key.expires_at
    assert keys.audit.events[-1].changes == {
        "replacedBy": (None, old.key.id + 1),
        "expiresAt": (wire_time(old.key.expires_at), wire_time(old.key.expires_at)),
    }


async def test_a_rotation_without_grace_revokes_the_old_key(keys: InMemoryKeys) -> None:
    old = await issue(keys)
    new = await RotateKey(keys, keys.clock)(OPERATOR, old.key.id, origin=CLI)
    retired = await keys.get(old.key.id)
    assert retired is not None and retired.state_at(keys.clock.now()) is KeyState.REVOKED
    assert keys.audit.events[-1].changes == {
        "replacedBy": (None, new.key.id),
        "isActive": (True, False),
    }


async def test_an_update_records_each_changed_field_with_old_and_new(keys: InMemoryKeys) -> None:
    issued = await issue(keys)
    owner = issued.key
    expires = keys.clock.now() + timedelta(days=1)
    update = UpdateKey(keys, keys.clock)
    patch = KeyPatch(name="renamed", expires_at=expires)
    updated = await update(owner, owner.id, patch, origin=API)
    assert (updated.name, updated.expires_at) == ("renamed", expires)
    event = keys.audit.events[-1]
    assert (event.action, event.actor, event.ip, event.request_id) == (
        Action.KEY_UPDATED,
        Actor("alice", owner.id, Via.API),
        "10.0.0.9",
        "req-1",
    )
    assert event.changes == {"name": ("k", "renamed"), "expiresAt": (None, wire_time(expires))}
    # The same patch again changes nothing and records nothing.
    await update(owner, owner.id, patch, origin=API)
    assert len(keys.audit.events) == 2


async def test_a_refused_change_records_nothing(keys: InMemoryKeys) -> None:
    issued = await issue(keys)
    with pytest.raises(PermissionDenied):
        await UpdateKey(keys, keys.clock)(
            issued.key, issued.key.id, KeyPatch(rate_limit=1000), origin=API
        )
    await RevokeKey(keys)(OPERATOR, issued.key.id, origin=CLI)
    await RevokeKey(keys)(OPERATOR, issued.key.id, origin=CLI)  # already revoked: no change
    assert [e.action for e in keys.audit.events] == [Action.KEY_ISSUED, Action.KEY_REVOKED]


async def cursors() -> SignedCursors:
    return SignedCursors("test")


async def test_the_audit_log_is_admins_only_newest_first_and_paged_by_cursor(
    keys: InMemoryKeys,
) -> None:
    issued = [await issue(keys) for _ in range(5)]
    trail = ListAudit(keys.audit, cursors)
    with pytest.raises(PermissionDenied):
        await trail(issued[0].key, AuditQuery(), PageRequest())
    seen: list[int] = []
    entries, info = await trail(OPERATOR, AuditQuery(), PageRequest(limit=2))
    seen += [e.event.target_id for e in entries]
    while info.next_cursor:
        entries, info = await trail(OPERATOR, AuditQuery(), PageRequest(limit=2), info.next_cursor)
        assert info.page is None and info.total == 5
        seen += [e.event.target_id for e in entries]
    assert seen == [k.key.id for k in reversed(issued)]
    _, info = await trail(OPERATOR, AuditQuery(action=Action.KEY_ISSUED), PageRequest(limit=1))
    with pytest.raises(InvalidInput, match="cursor"):
        await trail(OPERATOR, AuditQuery(), PageRequest(limit=1), info.next_cursor)
