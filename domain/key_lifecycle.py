"""A key's life after it is issued: when it expires, how it is rotated with a grace
period, and who may change what of it.

Expiry is an instant stored with the key (`ApiKey.expires_at`), judged against the
clock whenever the key is presented (`ApiKey.state_at`): no job expires keys, so
every instance agrees from that very instant. A rotation ends the old key at
`min(now + grace, its own expiry)`: a grace period never lengthens a key's life.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.credits import credits_setting
from domain.errors import Conflict, FieldError, InvalidInput, PermissionDenied
from domain.keys import ApiKey, KeyState, validate_key_name, validate_rate_limit
from domain.times import parse_time, wire_time

MAX_LIFETIME_YEARS = 10
MAX_GRACE_SECONDS = 7 * 24 * 3600
EXPIRES_AT = "expiresAt"


def _years_after(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February, in a year that has none
        return moment.replace(year=moment.year + years, day=28)


def check_expiry(expires_at: datetime, now: datetime) -> datetime:
    """An expiry a client may ask for: after `now`, at most ten years ahead."""
    if expires_at <= now:
        message = f"must be in the future (now is {wire_time(now)})"
    elif expires_at > _years_after(now, MAX_LIFETIME_YEARS):
        message = f"must be at most {MAX_LIFETIME_YEARS} years ahead"
    else:
        return expires_at
    raise InvalidInput("Invalid expiresAt", [FieldError(EXPIRES_AT, message)])


def validate_grace(seconds: int | str) -> int:
    """A grace period in whole seconds, 0 to 7 days (a form or command line sends digits)."""
    if isinstance(seconds, str):
        text = seconds.strip()
        seconds = int(text) if text.isascii() and text.isdigit() and len(text) < 20 else -1
    if isinstance(seconds, bool) or not 0 <= seconds <= MAX_GRACE_SECONDS:
        raise InvalidInput(
            "Invalid gracePeriodSeconds",
            [FieldError("gracePeriodSeconds", f"must be an integer from 0 to {MAX_GRACE_SECONDS}")],
        )
    return seconds


def rotation_end(old: ApiKey, now: datetime, grace_seconds: int) -> datetime | None:
    """When the old key of a rotation stops: None for at once (it is revoked, as a
    rotation without grace always did), else `min(now + grace, its own expiry)`.
    Only a usable key that was not rotated already can be rotated."""
    state = old.state_at(now)
    if state is KeyState.REVOKED:
        raise Conflict("API key is already revoked; only an active key can be rotated")
    if old.replaced_by is not None:
        raise Conflict(
            f"API key was already rotated (to key {old.replaced_by}) and is in its grace "
            f"period until {wire_time(old.expires_at)}"
        )
    if state is KeyState.EXPIRED:
        raise Conflict("API key has expired; only an active key can be rotated")
    if grace_seconds == 0:
        return None
    end = now + timedelta(seconds=grace_seconds)
    return end if old.expires_at is None else min(end, old.expires_at)


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP
"""A PATCH field that was not sent: the key keeps its value (null means "none")."""


@dataclass(frozen=True, slots=True)
class KeyPatch:
    """A JSON merge patch of a key: KEEP for a field not sent, None for a null."""

    name: str | _Keep = KEEP
    expires_at: datetime | _Keep | None = KEEP
    rate_limit: int | _Keep = KEEP
    rate_limit_per_minute: int | _Keep | None = KEEP
    rate_limit_per_day: int | _Keep | None = KEEP
    # Validated JSON as sent; merged with the key's credits by plan_patch.
    credits: dict[str, object] | _Keep | None = KEEP

    def given(self) -> dict[str, object]:
        return {f: v for f in PATCH_FIELDS if (v := getattr(self, f)) is not KEEP}


# Attribute names and the wire names clients (and the audit log) know them by.
PATCH_FIELDS = {
    "name": "name",
    "expires_at": EXPIRES_AT,
    "rate_limit": "rateLimit",
    "rate_limit_per_minute": "rateLimitPerMinute",
    "rate_limit_per_day": "rateLimitPerDay",
    "credits": "credits",
}
LIMIT_FIELDS = frozenset({"rate_limit", "rate_limit_per_minute", "rate_limit_per_day", "credits"})
NULLABLE = frozenset({"expires_at", "rate_limit_per_minute", "rate_limit_per_day", "credits"})


def key_patch(values: dict[str, object]) -> KeyPatch:
    """A patch from what a client sent, by wire name, typed as JSON types it: unknown
    fields, nulls where a value is required and values out of range are a 400 naming
    every field at fault. An expiry comes as ISO 8601 text or an aware datetime."""
    by_wire = {wire: attr for attr, wire in PATCH_FIELDS.items()}
    parsed: dict[str, object] = {}
    errors: list[FieldError] = []
    for wire, value in values.items():
        attr = by_wire.get(wire)
        if attr is None:
            errors.append(FieldError(wire, "unknown field"))
            continue
        try:
            parsed[attr] = _patch_value(attr, value)
        except InvalidInput as exc:
            errors += exc.details
    if errors:
        raise InvalidInput("Invalid key change", errors)
    return KeyPatch(**parsed)  # type: ignore[arg-type]


def _refused(wire: str, message: str) -> InvalidInput:
    return InvalidInput(f"Invalid {wire}", [FieldError(wire, message)])


def _patch_value(attr: str, value: object) -> object:
    wire = PATCH_FIELDS[attr]
    if value is None:
        if attr not in NULLABLE:
            raise _refused(wire, "must not be null")
        return None
    if attr == "name":
        if not isinstance(value, str):
            raise _refused(wire, "must be a string")
        return validate_key_name(value)
    if attr == "expires_at":
        if not isinstance(value, str | datetime):
            raise _refused(wire, "must be an ISO 8601 time or null")
        return parse_time(value, wire)
    if attr == "credits":
        credits_setting(value)  # refused here when malformed, merged by plan_patch
        return value
    if not isinstance(value, int) or isinstance(value, bool):
        raise _refused(wire, "must be an integer")
    return validate_rate_limit(value, wire)


Changes = dict[str, tuple[object, object]]


def plan_patch(key: ApiKey, patch: KeyPatch, *, admin: bool, now: datetime) -> Changes:
    """What a patch changes, by attribute: (old, new) for each field whose value differs.

    The owner may rename a key and set or shorten its expiry (a shorter life is never
    an escalation); lengthening or removing an expiry and every limit are an admin's.
    A rotated key's grace period is never lengthened, by anyone."""
    given = patch.given()
    touched_limits = sorted(PATCH_FIELDS[f] for f in given if f in LIMIT_FIELDS)
    if touched_limits and not admin:
        raise PermissionDenied(f"Only an admin key may change {', '.join(touched_limits)}")
    if "expires_at" in given:
        _check_new_expiry(key, given["expires_at"], admin=admin, now=now)  # type: ignore[arg-type]
    changes = {f: (getattr(key, f), v) for f, v in given.items() if getattr(key, f) != v}
    if "credits" in given:
        # Setting credits always sets the count, even to the number set last (a top-up).
        changes["credits"] = (key.credits, credits_setting(given["credits"], key.credits))
    return changes


def _check_new_expiry(key: ApiKey, new: datetime | None, *, admin: bool, now: datetime) -> None:
    if new is not None:
        check_expiry(new, now)
    old = key.expires_at
    lengthens = old is not None and (new is None or new > old)
    if not lengthens:
        return
    if key.replaced_by is not None:
        raise Conflict("A rotated key's grace period cannot be lengthened")
    if not admin:
        raise PermissionDenied(
            "Only an admin key may lengthen or remove an expiry; the owner may set or shorten it"
        )
