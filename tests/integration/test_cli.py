"""The `keygate` command as an operator runs it: real process, real database."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import UNREACHABLE, assert_one_line_error, keygate
from tests.support.database import fresh_database


@pytest.mark.parametrize(
    "args",
    [
        ["bogus"],
        [],
        ["serve", "--port", "http"],
        ["serve", "--workers", "0"],
        ["keys", "issue", "--name", "x"],
        ["keys", "revoke", "abc"],
        ["keys", "issue", "--user", "u", "--name", "x", "--permissions", "root"],
        ["keys", "issue", "--user", "u", "--name", "", "--permissions", "read"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], db: str) -> None:
    assert_one_line_error(keygate(*args, database_url=db), 2)


def test_bad_configuration_exits_2(db: str) -> None:
    assert_one_line_error(keygate("migrate", database_url=db, PORT="nope"), 2)


@pytest.mark.parametrize(
    "args",
    [
        ["migrate"],
        ["keys", "list"],
        ["keys", "revoke", "1"],
        ["keys", "issue", "--user", "u", "--name", "n"],
    ],
)
def test_unreachable_database_exits_1_with_one_line(args: list[str]) -> None:
    assert_one_line_error(keygate(*args, database_url=UNREACHABLE), 1)


def test_a_database_never_migrated_exits_1_with_one_line(server_url: str) -> None:
    with fresh_database(server_url) as empty:
        result = keygate("keys", "list", database_url=empty)
    assert_one_line_error(result, 1)
    assert result.stderr.startswith("keygate: error: database error:")


def test_issue_list_revoke(db: str) -> None:
    issued = keygate(
        "keys", "issue", "--user", "ops", "--name", "first admin",
        "--permissions", "read,write,admin", "--rate-limit", "500", "--json",
        database_url=db,
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    body = json.loads(issued.stdout)
    assert body["key"].startswith("rk_") and body["userId"] == "ops"
    assert body["permissions"] == ["admin", "read", "write"] and body["rateLimit"] == 500

    plain = keygate("keys", "issue", "--user", "ops", "--name", "second", database_url=db)
    assert plain.stdout.strip().startswith("rk_") and len(plain.stdout.strip()) == 67

    listed = json.loads(keygate("keys", "list", "--user", "ops", "--json", database_url=db).stdout)
    assert [k["name"] for k in listed] == ["first admin", "second"]
    assert all("key" not in k for k in listed)

    assert keygate("keys", "revoke", str(body["id"]), database_url=db).returncode == 0
    listed = json.loads(keygate("keys", "list", "--json", database_url=db).stdout)
    assert [k["isActive"] for k in listed] == [False, True]
    assert_one_line_error(keygate("keys", "revoke", "999", database_url=db), 1)
