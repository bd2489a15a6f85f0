"""`keygate keys issue/update/rotate` with the lifecycle options and `keygate audit list`,
as an operator runs them: real process, real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.cli import assert_one_line_error, keygate


def in_days(days: int) -> str:
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return moment.isoformat().replace("+00:00", "Z")


def run_json(db: str, *args: str) -> object:
    result = keygate(*args, "--json", database_url=db)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_issue_update_rotate_and_the_audit_trail_they_leave(db: str) -> None:
    expires = in_days(30)
    issued = run_json(
        db, "keys", "issue", "--user", "ops", "--name", "ci", "--expires-at", expires,
        "--rate-limit-minute", "10", "--rate-limit-day", "1000",
    )  # fmt: skip
    assert isinstance(issued, dict)
    assert (issued["expiresAt"], issued["rateLimitPerMinute"], issued["rateLimitPerDay"]) == (
        expires,
        10,
        1000,
    )
    key_id = str(issued["id"])
    updated = run_json(
        db, "keys", "update", key_id, "--name", "ci-2", "--expires-at", "none",
        "--rate-limit-day", "none", "--rate-limit", "50",
    )  # fmt: skip
    assert isinstance(updated, dict)
    assert (updated["name"], updated["expiresAt"], updated["rateLimitPerDay"]) == (
        "ci-2",
        None,
        None,
    )
    assert (updated["rateLimit"], updated["rateLimitPerMinute"]) == (50, 10)
    rotated = run_json(db, "keys", "rotate", key_id, "--grace", "3600")
    assert isinstance(rotated, dict) and rotated["key"].startswith("rk_")
    assert (rotated["name"], rotated["rateLimit"]) == ("ci-2", 50)

    entries = run_json(db, "audit", "list")
    assert isinstance(entries, list)
    assert [(e["action"], e["target"]["id"]) for e in entries] == [
        ("key.rotated", issued["id"]),
        ("key.updated", issued["id"]),
        ("key.issued", issued["id"]),
    ]
    assert {json.dumps(e["actor"]) for e in entries} == {
        json.dumps({"userId": "operator", "keyId": None, "via": "cli"})
    }
    assert entries[1]["changes"] == {
        "name": ["ci", "ci-2"],
        "expiresAt": [expires, None],
        "rateLimit": [100, 50],
        "rateLimitPerDay": [1000, None],
    }
    assert issued["key"] not in json.dumps(entries) and rotated["key"] not in json.dumps(entries)
    only = run_json(db, "audit", "list", "--action", "key.updated", "--limit", "5")
    assert isinstance(only, list) and [e["action"] for e in only] == ["key.updated"]
    table = keygate("audit", "list", database_url=db)
    assert table.returncode == 0 and "key.rotated" in table.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["keys", "update", "1"],
        ["keys", "update", "1", "--rate-limit", "x"],
        ["keys", "update", "1", "--rate-limit-minute", "0"],
        ["keys", "issue", "--user", "u", "--name", "n", "--expires-at", "yesterday"],
        ["keys", "issue", "--user", "u", "--name", "n", "--expires-at", "2020-01-01T00:00:00Z"],
        ["keys", "issue", "--user", "u", "--name", "n", "--expires-at", "2030-01-01T00:00:00"],
        ["keys", "rotate", "1", "--grace", "-5"],
        ["keys", "rotate", "1", "--grace", "604801"],
        ["audit", "list", "--action", "key.deleted"],
        ["audit", "list", "--limit", "0"],
    ],
)
def test_bad_lifecycle_arguments_exit_2_with_one_line(args: list[str], db: str) -> None:
    assert_one_line_error(keygate(*args, database_url=db), 2)


def test_changing_a_key_that_does_not_exist_exits_1(db: str) -> None:
    assert_one_line_error(keygate("keys", "update", "999", "--name", "x", database_url=db), 1)
    assert_one_line_error(keygate("keys", "rotate", "999", database_url=db), 1)
