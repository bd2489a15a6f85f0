"""Usage credits: a prepaid count a metered key spends one of per admitted request.

The number an admin sets lives on the key with its version: the instant it was set, in
microseconds since the epoch. The count being spent lives in the quota store beside
the windows. A store that meets a newer version than its own starts again from the
number set, so a top-up needs no write to the store, and a process still holding an
older copy of the key can never undo it (an older version than the store's is
ignored). The number belongs to the refill period it was set in, so a refill due since
then applies whether or not the store had seen the key before.

A refill *sets* the count to its amount at the first decision of a new period (00:00
UTC daily, or the 1st at 00:00 UTC monthly): lazily, with no job to run. Periods are
numbered (days since the epoch, or months since January 1970) so every store compares
them as integers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.errors import FieldError, InvalidInput

DAY_SECONDS = 86400
DAILY = "daily"
MONTHLY = "monthly"
INTERVALS = (DAILY, MONTHLY)


@dataclass(frozen=True, slots=True)
class Refill:
    interval: str  # DAILY or MONTHLY
    amount: int


@dataclass(frozen=True, slots=True)
class CreditRule:
    """What the key says: `remaining` as an admin last set it, at `version` (epoch
    microseconds)."""

    version: int
    remaining: int
    refill: Refill | None = None


@dataclass(frozen=True, slots=True)
class CreditState:
    """What the store holds: the count being spent, since `version`, in `period`."""

    version: int
    remaining: int
    period: int


def period_of(interval: str | None, now: float) -> int:
    if interval == MONTHLY:
        day = datetime.fromtimestamp(math.floor(now / DAY_SECONDS) * DAY_SECONDS, UTC)
        return (day.year - 1970) * 12 + day.month - 1
    return math.floor(now / DAY_SECONDS)


def period_start(interval: str | None, period: int) -> int:
    """Epoch seconds at which `period` begins."""
    if interval == MONTHLY:
        year, month = divmod(period, 12)
        return int(datetime(1970 + year, month + 1, 1, tzinfo=UTC).timestamp())
    return period * DAY_SECONDS


def current(state: CreditState | None, rule: CreditRule, now: float) -> CreditState:
    """The count at `now`: the admin's newer number, else a due refill, else the store's."""
    interval = rule.refill.interval if rule.refill else None
    period = period_of(interval, now)
    if state is None or rule.version > state.version:
        state = CreditState(rule.version, rule.remaining, period_of(interval, rule.version / 1e6))
    if rule.refill is not None and period > state.period:
        return CreditState(state.version, rule.refill.amount, period)
    return state


def seconds_until_refill(rule: CreditRule, now: float) -> int | None:
    if rule.refill is None:
        return None
    interval = rule.refill.interval
    start = period_start(interval, period_of(interval, now) + 1)
    return max(1, math.ceil(start - now))


MAX_CREDITS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class CreditsSetting:
    """Credits as an admin sets them (register, PATCH, `--credits`): the store starts
    counting from `remaining` at the version the key's row gives the setting."""

    remaining: int
    refill: Refill | None = None


def _count(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_CREDITS:
        raise InvalidInput(
            "Invalid credits", [FieldError(field, f"must be an integer from 0 to {MAX_CREDITS}")]
        )
    return value


def _refill(value: object) -> Refill | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"interval", "amount"}:
        raise InvalidInput(
            "Invalid credits",
            [FieldError("credits.refill", 'must be {"interval", "amount"} or null')],
        )
    if value["interval"] not in INTERVALS:
        raise InvalidInput(
            "Invalid credits",
            [FieldError("credits.refill.interval", "must be 'daily' or 'monthly'")],
        )
    return Refill(value["interval"], _count(value["amount"], "credits.refill.amount"))


def credits_setting(value: object, current: CreditRule | None = None) -> CreditsSetting | None:
    """Credits from what a client sent: null (unmetered) or {"remaining", "refill"}. With
    `current`, a JSON merge patch of it: a refill not sent stays as it was. `remaining`
    is always sent: setting credits sets the count (a top-up is {"remaining": N})."""
    if value is None:
        return None
    if not isinstance(value, dict) or not set(value) <= {"remaining", "refill"}:
        raise InvalidInput(
            "Invalid credits",
            [FieldError("credits", 'must be {"remaining", "refill"} or null')],
        )
    if "remaining" not in value:
        raise InvalidInput("Invalid credits", [FieldError("credits.remaining", "is required")])
    remaining = _count(value["remaining"], "credits.remaining")
    if "refill" in value:
        return CreditsSetting(remaining, _refill(value["refill"]))
    return CreditsSetting(remaining, current.refill if current else None)
