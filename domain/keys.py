"""API keys: generation, hashing, permissions and who may issue what."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.credits import CreditRule
from domain.errors import FieldError, InvalidInput, PermissionDenied
from domain.storable import storable_text

KEY_PREFIX = "rk_"
KEY_RANDOM_BYTES = 32
DISPLAY_PREFIX_HEX = 8
DEFAULT_RATE_LIMIT = 100
MAX_RATE_LIMIT = 2_147_483_647
NAME_MAX = 100
USER_ID_MAX = 200

UserId = str


class Permission(enum.StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class KeyState(enum.Enum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


ALL_PERMISSIONS = frozenset(Permission)
SELF_SERVICE_PERMISSIONS = frozenset({Permission.READ, Permission.WRITE})


def generate_raw_key() -> str:
    return KEY_PREFIX + secrets.token_hex(KEY_RANDOM_BYTES)


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def display_prefix(raw_key: str) -> str:
    return raw_key[: len(KEY_PREFIX) + DISPLAY_PREFIX_HEX]


def looks_like_key(raw_key: str) -> bool:
    body = raw_key[len(KEY_PREFIX) :]
    return (
        raw_key.startswith(KEY_PREFIX)
        and len(body) == 2 * KEY_RANDOM_BYTES
        and all(c in "0123456789abcdef" for c in body)
    )


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


def parse_permissions(values: Iterable[str]) -> frozenset[Permission]:
    allowed = ", ".join(p.value for p in Permission)
    result: set[Permission] = set()
    for value in values:
        try:
            result.add(Permission(value))
        except ValueError:
            raise InvalidInput(
                "Invalid permissions",
                [FieldError("permissions", f"unknown permission {value!r}; allowed: {allowed}")],
            ) from None
    if not result:
        raise InvalidInput(
            "Invalid permissions",
            [FieldError("permissions", f"at least one permission is required; allowed: {allowed}")],
        )
    return frozenset(result)


def validate_key_name(name: str) -> str:
    if not 1 <= len(name) <= NAME_MAX or not name.strip() or "\x00" in name:
        raise InvalidInput(
            "Invalid key name",
            [FieldError("name", f"must be 1-{NAME_MAX} characters, not blank, without NUL")],
        )
    return name


def validate_rate_limit(value: int | str, field: str = "rateLimit") -> int:
    """A limit given as a number, or as the digits a form or command line sent; `field`
    names it in the error (rateLimit, rateLimitPerMinute, rateLimitPerDay)."""
    if isinstance(value, str):
        digits = value.strip()
        value = int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 20 else 0
    if isinstance(value, bool) or not 1 <= value <= MAX_RATE_LIMIT:
        raise InvalidInput(
            "Invalid rate limit",
            [FieldError(field, f"must be an integer from 1 to {MAX_RATE_LIMIT}")],
        )
    return value


def validate_user_id(user_id: str) -> str:
    if not 1 <= len(user_id) <= USER_ID_MAX or not storable_text(user_id):
        raise InvalidInput(
            "Invalid user id",
            [FieldError("userId", f"must be 1-{USER_ID_MAX} characters, without NUL")],
        )
    return user_id


@dataclass(frozen=True, slots=True)
class KeyLimits:
    """Every limit a key carries. A key issued with another key gets at most its
    issuer's limits, window by window (`within`): a further window, or credits, is one
    more field here and one more line there, and the rule covers it."""

    per_hour: int = DEFAULT_RATE_LIMIT
    # None: no such window, which is more than any limit.
    per_minute: int | None = None
    per_day: int | None = None

    def within(self, ceiling: KeyLimits) -> KeyLimits:
        return KeyLimits(
            per_hour=min(self.per_hour, ceiling.per_hour),
            per_minute=_lower(self.per_minute, ceiling.per_minute),
            per_day=_lower(self.per_day, ceiling.per_day),
        )


def _lower(limit: int | None, ceiling: int | None) -> int | None:
    return ceiling if limit is None else limit if ceiling is None else min(limit, ceiling)


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    user_id: UserId
    name: str
    prefix: str
    permissions: frozenset[Permission]
    rate_limit: int
    is_active: bool
    created_at: datetime
    last_used_at: datetime | None = None
    # The instant from which the key is expired; None: it never expires.
    expires_at: datetime | None = None
    # Windows beside the hourly `rate_limit`; None: the key has no such window.
    rate_limit_per_minute: int | None = None
    rate_limit_per_day: int | None = None
    # The key that replaced this one in a rotation; set, the key is in its grace period
    # (until expires_at) or, rotated without one, revoked.
    replaced_by: int | None = None
    # None: unmetered. Otherwise the credits an admin last set (domain/credits.py).
    credits: CreditRule | None = None
    # The key whose quota this one counts on: its first predecessor in a chain of
    # rotations (a rotation changes the secret, never what is left); None: its own.
    quota_key_id: int | None = None

    @property
    def quota_id(self) -> int:
        return self.quota_key_id or self.id

    @property
    def is_admin(self) -> bool:
        return Permission.ADMIN in self.permissions

    @property
    def limits(self) -> KeyLimits:
        return KeyLimits(self.rate_limit, self.rate_limit_per_minute, self.rate_limit_per_day)

    def allows(self, permission: Permission) -> bool:
        return permission in self.permissions or self.is_admin

    def require(self, permission: Permission) -> None:
        if not self.allows(permission):
            raise PermissionDenied(
                f"This key lacks the '{permission.value}' permission", missing=permission.value
            )

    def state_at(self, now: datetime) -> KeyState:
        """What the key is at `now`: expiry is a moment, so no job has to act on it."""
        if not self.is_active:
            return KeyState.REVOKED
        if self.expires_at is not None and now >= self.expires_at:
            return KeyState.EXPIRED
        return KeyState.ACTIVE

    def usable_at(self, now: datetime) -> bool:
        return self.state_at(now) is KeyState.ACTIVE

    def can_see(self, other_user: UserId) -> bool:
        return self.is_admin or other_user == self.user_id


OPERATOR_USER_ID: UserId = "operator"


class Operator:
    """Whoever runs the CLI: shell and database access already imply every right."""

    def __repr__(self) -> str:
        return "OPERATOR"


OPERATOR = Operator()
Caller = ApiKey | Operator


def can_see(caller: Caller, owner: UserId) -> bool:
    return isinstance(caller, Operator) or caller.can_see(owner)


def is_admin(caller: Caller) -> bool:
    return isinstance(caller, Operator) or caller.is_admin


def require(caller: Caller, permission: Permission) -> None:
    """The permission check every use case makes first; the operator holds every right."""
    if isinstance(caller, ApiKey):
        caller.require(permission)


def acting_user(caller: Caller) -> UserId:
    """The user a caller acts as: what it creates is theirs."""
    return caller.user_id if isinstance(caller, ApiKey) else OPERATOR_USER_ID


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just created: the only moment the raw key exists outside its holder."""

    key: ApiKey
    raw_key: str
