"""The key lifecycle rules with a clock the test sets: expiry, grace periods, patches."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import Conflict, InvalidInput, PermissionDenied
from domain.key_lifecycle import (
    KEEP,
    KeyPatch,
    check_expiry,
    key_patch,
    plan_patch,
    rotation_end,
    validate_grace,
)
from domain.key_requests import KeyRequest, authorize_issue, key_request
from domain.keys import ApiKey, KeyState, Permission
from domain.times import parse_time, wire_time
from tests.fakes import make_caller

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
R = Permission.READ


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def fields_of(error: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [d.field for d in error.value.details]


def test_a_key_is_expired_from_the_very_instant_of_its_expiry() -> None:
    key = replace(make_caller("u", R), expires_at=at(10))
    assert key.state_at(at(9.999999)) is KeyState.ACTIVE
    assert key.state_at(at(10)) is KeyState.EXPIRED
    assert key.state_at(at(10 * 365 * 86400)) is KeyState.EXPIRED
    assert not key.usable_at(at(10))
    # Revocation wins over expiry: a revoked key is revoked, expired or not.
    assert replace(key, is_active=False).state_at(at(11)) is KeyState.REVOKED
    assert replace(key, expires_at=None).state_at(at(10**9)) is KeyState.ACTIVE


def test_an_expiry_must_lie_in_the_future_and_at_most_ten_years_ahead() -> None:
    assert check_expiry(at(1), NOW) == at(1)
    ten_years = datetime(2036, 12, 1, 12, 0, tzinfo=UTC)
    assert check_expiry(ten_years, NOW) == ten_years
    for bad in (NOW, at(-1), ten_years + timedelta(microseconds=1)):
        with pytest.raises(InvalidInput) as error:
            check_expiry(bad, NOW)
        assert fields_of(error) == ["expiresAt"]
    leap = datetime(2028, 2, 29, tzinfo=UTC)
    assert check_expiry(datetime(2038, 2, 28, tzinfo=UTC), leap)
    with pytest.raises(InvalidInput):
        check_expiry(datetime(2038, 3, 1, tzinfo=UTC), leap)


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2027-01-31T12:00:00Z", datetime(2027, 1, 31, 12, tzinfo=UTC)),
        ("2027-01-31t12:00:00z", datetime(2027, 1, 31, 12, tzinfo=UTC)),
        ("2027-01-31T14:30:00+02:30", datetime(2027, 1, 31, 12, tzinfo=UTC)),
        ("2027-01-31T12:00:00.5-00:00", datetime(2027, 1, 31, 12, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_times_with_a_zone_are_read_as_the_instant_they_name(text: str, instant: datetime) -> None:
    parsed = parse_time(text, "expiresAt")
    assert parsed == instant and parsed.utcoffset() == timedelta(0)
    assert wire_time(parsed) == instant.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    "text", ["2027-01-31T12:00:00", "2027-01-31", "tomorrow", "", "1e9", "2027-13-01T00:00Z"]
)
def test_a_time_without_a_zone_or_not_a_time_is_invalid_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_time(text, "expiresAt")
    assert fields_of(error) == ["expiresAt"]
    assert "zone" in error.value.details[0].message


@pytest.mark.parametrize("bad", [-1, 604801, True, "-1", "1.5", "3600s", " ", "١"])
def test_a_grace_period_is_whole_seconds_from_zero_to_seven_days(bad: object) -> None:
    with pytest.raises(InvalidInput) as error:
        validate_grace(bad)
    assert fields_of(error) == ["gracePeriodSeconds"]
    assert (validate_grace(0), validate_grace(604800), validate_grace(" 3600 ")) == (
        0,
        604800,
        3600,
    )


def test_a_rotation_ends_the_old_key_at_once_or_at_the_earlier_of_grace_and_expiry() -> None:
    key = make_caller("u", R)
    assert rotation_end(key, NOW, 0) is None
    assert rotation_end(key, NOW, 3600) == at(3600)
    expiring = replace(key, expires_at=at(60))
    assert rotation_end(expiring, NOW, 3600) == at(60)
    assert rotation_end(expiring, NOW, 30) == at(30)


def test_only_a_usable_key_that_was_not_rotated_can_be_rotated() -> None:
    key = make_caller("u", R)
    cases = {
        "revoked": replace(key, is_active=False),
        "expired": replace(key, expires_at=at(-1)),
        "grace period": replace(key, expires_at=at(60), replaced_by=99),
        "already rotated": replace(key, is_active=False, replaced_by=99),
    }
    for case, old in cases.items():
        with pytest.raises(Conflict):
            rotation_end(old, NOW, 60)
        assert case


def test_anyone_may_set_an_expiry_but_only_an_admin_sets_limits_or_the_owner() -> None:
    alice = make_caller("alice", R)
    expiring = key_request("k", ["read"], expires_at="2027-01-01T00:00:00Z")
    authorize_issue(None, expiring)
    authorize_issue(alice, expiring)
    for admin_only in (
        KeyRequest("k", frozenset({R}), rate_limit_per_minute=10),
        KeyRequest("k", frozenset({R}), rate_limit_per_day=10),
    ):
        for caller in (None, alice):
            with pytest.raises(PermissionDenied, match="rateLimitPerMinute"):
                authorize_issue(caller, admin_only)
        authorize_issue(make_caller("root", Permission.ADMIN), admin_only)


def test_key_request_names_the_window_at_fault() -> None:
    with pytest.raises(InvalidInput) as error:
        key_request("k", ["read"], rate_limit_per_day="0")
    assert fields_of(error) == ["rateLimitPerDay"]
    request = key_request("k", ["read"], rate_limit_per_minute="60", rate_limit_per_day="")
    assert (request.rate_limit_per_minute, request.rate_limit_per_day) == (60, None)


def test_a_patch_refuses_unknown_fields_nulls_and_wrong_types_naming_every_one() -> None:
    with pytest.raises(InvalidInput) as error:
        key_patch(
            {
                "name": None,
                "rateLimit": "5",
                "rateLimitPerMinute": True,
                "rateLimitPerDay": 0,
                "expiresAt": 12,
                "credits": {"remaining": True},
                "isActive": False,
            }
        )
    assert sorted(fields_of(error)) == sorted(
        ["name", "rateLimit", "rateLimitPerMinute", "rateLimitPerDay", "expiresAt",
         "credits.remaining", "isActive"]
    )  # fmt: skip
    patch = key_patch({"rateLimitPerMinute": None, "expiresAt": "2027-01-01T00:00:00+01:00"})
    assert patch.rate_limit_per_minute is None and patch.name is KEEP
    assert patch.expires_at == datetime(2026, 12, 31, 23, tzinfo=UTC)


def alices_key(expires_at: datetime | None = None) -> ApiKey:
    return replace(make_caller("alice", R), expires_at=expires_at)


def test_the_owner_renames_and_sets_or_shortens_an_expiry() -> None:
    key = alices_key()
    changes = plan_patch(key, KeyPatch(name="new", expires_at=at(60)), admin=False, now=NOW)
    assert changes == {"name": ("caller", "new"), "expires_at": (None, at(60))}
    expiring = alices_key(at(60))
    assert plan_patch(expiring, KeyPatch(expires_at=at(30)), admin=False, now=NOW) == {
        "expires_at": (at(60), at(30))
    }
    # The same values again change nothing.
    assert plan_patch(expiring, KeyPatch(expires_at=at(60)), admin=False, now=NOW) == {}


def test_lengthening_or_removing_an_expiry_and_limits_are_an_admins() -> None:
    expiring = alices_key(at(60))
    for patch in (
        KeyPatch(expires_at=at(120)),
        KeyPatch(expires_at=None),
        KeyPatch(rate_limit=5),
        KeyPatch(rate_limit_per_minute=None),
        KeyPatch(rate_limit_per_day=100),
    ):
        with pytest.raises(PermissionDenied):
            plan_patch(expiring, patch, admin=False, now=NOW)
        plan_patch(expiring, patch, admin=True, now=NOW)
    with pytest.raises(InvalidInput) as error:
        plan_patch(expiring, KeyPatch(expires_at=at(-1)), admin=True, now=NOW)
    assert fields_of(error) == ["expiresAt"]


def test_a_rotated_keys_grace_period_is_never_lengthened() -> None:
    key = alices_key(at(60))
    in_grace = replace(key, replaced_by=7)
    with pytest.raises(Conflict):
        plan_patch(in_grace, KeyPatch(expires_at=at(120)), admin=True, now=NOW)
    assert plan_patch(in_grace, KeyPatch(expires_at=at(30)), admin=False, now=NOW)
