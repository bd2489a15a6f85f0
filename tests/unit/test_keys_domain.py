from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidInput, PermissionDenied
from domain.key_requests import KeyRequest, authorize_issue, key_request
from domain.keys import (
    OPERATOR,
    ApiKey,
    Permission,
    display_prefix,
    generate_raw_key,
    hash_key,
    looks_like_key,
    parse_permissions,
    validate_key_name,
)

R, W, A = Permission.READ, Permission.WRITE, Permission.ADMIN
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def key(*permissions: Permission, user: str = "u1", **kw: object) -> ApiKey:
    fields: dict = dict(
        id=1,
        user_id=user,
        name="k",
        prefix="rk_00000000",
        permissions=frozenset(permissions),
        rate_limit=100,
        is_active=True,
        created_at=NOW,
    )
    fields.update(kw)
    return ApiKey(**fields)


def test_raw_keys_are_rk_and_64_lowercase_hex_and_unique() -> None:
    keys = {generate_raw_key() for _ in range(200)}
    assert len(keys) == 200
    assert all(re.fullmatch(r"rk_[0-9a-f]{64}", k) for k in keys)
    assert all(looks_like_key(k) for k in keys)


def test_hash_is_sha256_hex_of_the_raw_key_and_prefix_is_short() -> None:
    raw = generate_raw_key()
    assert hash_key(raw) == hashlib.sha256(raw.encode()).hexdigest()
    assert display_prefix(raw) == raw[:11]
    assert hash_key(raw) != hash_key(generate_raw_key())


@pytest.mark.parametrize("bad", ["", "rk_", "rk_" + "g" * 64, "xx_" + "a" * 64, "rk_" + "a" * 63])
def test_looks_like_key_rejects_malformed(bad: str) -> None:
    assert not looks_like_key(bad)


def test_parse_permissions_rejects_unknown_and_empty() -> None:
    assert parse_permissions(["read", "write", "read"]) == {R, W}
    with pytest.raises(InvalidInput) as unknown:
        parse_permissions(["read", "root"])
    assert unknown.value.details[0].field == "permissions"
    with pytest.raises(InvalidInput):
        parse_permissions([])


@pytest.mark.parametrize("name", ["", " ", "x" * 101])
def test_key_names_are_1_to_100_characters(name: str) -> None:
    with pytest.raises(InvalidInput):
        validate_key_name(name)


def test_names_count_code_points_not_bytes() -> None:
    assert validate_key_name("é" * 100) == "é" * 100


def test_self_service_may_not_ask_for_admin_or_set_user_or_limit() -> None:
    authorize_issue(None, KeyRequest("k", frozenset({R, W})))
    for request in (
        KeyRequest("k", frozenset({A})),
        KeyRequest("k", frozenset({R}), user_id="other"),
        KeyRequest("k", frozenset({R}), rate_limit=5),
    ):
        with pytest.raises(PermissionDenied):
            authorize_issue(None, request)


def test_a_key_issues_only_a_subset_of_its_own_permissions() -> None:
    authorize_issue(key(R, W), KeyRequest("k", frozenset({R})))
    with pytest.raises(PermissionDenied, match="write"):
        authorize_issue(key(R), KeyRequest("k", frozenset({R, W})))
    with pytest.raises(PermissionDenied):
        authorize_issue(key(R, W), KeyRequest("k", frozenset({R}), user_id="u2"))


def test_admins_and_operators_may_issue_anything() -> None:
    request = KeyRequest("k", frozenset({A}), user_id="u2", rate_limit=5)
    authorize_issue(key(A), request)
    authorize_issue(OPERATOR, request)


def test_require_and_admin_implies_everything() -> None:
    key(R).require(R)
    key(A).require(W)
    with pytest.raises(PermissionDenied, match="This key lacks the 'write' permission"):
        key(R).require(W)


def test_usable_only_while_active_and_unexpired() -> None:
    assert key(R).usable_at(NOW)
    assert not key(R, is_active=False).usable_at(NOW)
    assert not key(R, expires_at=NOW).usable_at(NOW)
    assert key(R, expires_at=NOW + timedelta(seconds=1)).usable_at(NOW)


def test_key_request_is_built_and_checked_in_one_place() -> None:
    request = key_request("ci", ["read", "write"], "u1", "250")
    assert request == KeyRequest(
        "ci", frozenset({Permission.READ, Permission.WRITE}), user_id="u1", rate_limit=250
    )
    # A form's blank fields mean "not given".
    assert key_request("ci", ["read"], "", "") == KeyRequest("ci", frozenset({Permission.READ}))
    assert key_request("ci", ["read"], None, 7).rate_limit == 7
    for name, permissions, user_id, limit, field in (
        ("", ["read"], None, None, "name"),
        ("ci", [], None, None, "permissions"),
        ("ci", ["root"], None, None, "permissions"),
        ("ci", ["read"], "a\x00b", None, "userId"),
        ("ci", ["read"], "u" * 201, None, "userId"),
        ("ci", ["read"], None, "1e3", "rateLimit"),
        ("ci", ["read"], None, "-5", "rateLimit"),
        ("ci", ["read"], None, 0, "rateLimit"),
        ("ci", ["read"], None, "9" * 30, "rateLimit"),
    ):
        with pytest.raises(InvalidInput) as raised:
            key_request(name, permissions, user_id, limit)
        assert [d.field for d in raised.value.details] == [field]
