"""What a caller asks for when registering a key, and who may ask for what: the rules of
POST /api/auth/register (also the CLI's `keys issue` and the dashboard's form)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.credits import CreditsSetting, credits_setting
from domain.errors import PermissionDenied
from domain.keys import (
    DEFAULT_RATE_LIMIT,
    ApiKey,
    Caller,
    KeyLimits,
    Permission,
    UserId,
    is_admin,
    parse_permissions,
    validate_key_name,
    validate_rate_limit,
    validate_user_id,
)
from domain.times import parse_time


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """What a caller asks for when registering a key."""

    name: str
    permissions: frozenset[Permission]
    user_id: UserId | None = None
    rate_limit: int | None = None
    expires_at: datetime | None = None
    rate_limit_per_minute: int | None = None
    rate_limit_per_day: int | None = None
    # None: unmetered.
    credits: CreditsSetting | None = None

    @property
    def sets_admin_fields(self) -> bool:
        """userId and limits are an admin's to set: a key's limits are its price."""
        return any(
            value is not None
            for value in (
                self.user_id,
                self.rate_limit,
                self.rate_limit_per_minute,
                self.rate_limit_per_day,
                self.credits,
            )
        )


def _limit(value: int | str | None, field: str) -> int | None:
    # An empty value (a form's blank field) means none was given.
    return None if value is None or value == "" else validate_rate_limit(value, field)


def key_request(
    name: str,
    permissions: Iterable[str],
    user_id: str | None = None,
    rate_limit: int | str | None = None,
    *,
    expires_at: str | datetime | None = None,
    rate_limit_per_minute: int | str | None = None,
    rate_limit_per_day: int | str | None = None,
    credits: object = None,
) -> KeyRequest:
    """A key request from what a client sent, validated: the API's register body, the
    CLI's `keys issue` and the dashboard's form all come through here. An empty
    value (a form's blank field) means none was given. Whether `expires_at` lies in
    the allowed future is IssueKey's to judge: it has the clock."""
    return KeyRequest(
        name=validate_key_name(name),
        permissions=parse_permissions(permissions),
        user_id=validate_user_id(user_id) if user_id else None,
        rate_limit=_limit(rate_limit, "rateLimit"),
        expires_at=parse_time(expires_at, "expiresAt") if expires_at else None,
        rate_limit_per_minute=_limit(rate_limit_per_minute, "rateLimitPerMinute"),
        rate_limit_per_day=_limit(rate_limit_per_day, "rateLimitPerDay"),
        credits=credits_setting(credits),
    )


ADMIN_FIELDS = "userId, rateLimit, rateLimitPerMinute, rateLimitPerDay or credits"


def authorize_issue(caller: Caller | None, request: KeyRequest) -> None:
    """Who may issue what: the rules of POST /api/auth/register (None: self-service).
    Anyone may set an expiry: a shorter life is never an escalation."""
    if caller is None:
        if Permission.ADMIN in request.permissions:
            raise PermissionDenied("Self-service keys cannot have the 'admin' permission")
        if request.sets_admin_fields:
            raise PermissionDenied(f"Only an admin key may set {ADMIN_FIELDS}")
        return
    if is_admin(caller):
        return
    assert isinstance(caller, ApiKey)
    if request.sets_admin_fields:
        raise PermissionDenied(f"Only an admin key may set {ADMIN_FIELDS}")
    missing = request.permissions - caller.permissions
    if missing:
        names = ", ".join(sorted(p.value for p in missing))
        raise PermissionDenied(f"A key may only issue permissions it holds (missing: {names})")


def granted_limits(caller: Caller | None, request: KeyRequest) -> KeyLimits:
    """The limits a new key gets: what was asked (only an admin or the operator may ask),
    else the defaults; and a key issued with a non-admin key never more than that key's,
    so chaining keys cannot raise a limit."""
    asked = KeyLimits(
        request.rate_limit or DEFAULT_RATE_LIMIT,
        request.rate_limit_per_minute,
        request.rate_limit_per_day,
    )
    if isinstance(caller, ApiKey) and not caller.is_admin:
        return asked.within(caller.limits)
    return asked
