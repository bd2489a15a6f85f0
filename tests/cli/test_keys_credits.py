"""`keygate keys issue --credits N [--refill daily|monthly]` and `keys update --credits`."""

from __future__ import annotations

import json

from tests.support.cli import assert_one_line_error, keygate


def test_issue_a_metered_key_and_top_it_up(db: str) -> None:
    issued = keygate(
        "keys", "issue", "--user", "ops", "--name", "metered", "--credits", "50",
        "--refill", "monthly", "--json", database_url=db,
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    body = json.loads(issued.stdout)
    assert body["credits"] == {"remaining": 50, "refill": {"interval": "monthly", "amount": 50}}
    updated = keygate(
        "keys", "update", str(body["id"]), "--credits", "7", "--json", database_url=db
    )  # fmt: skip
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["credits"] == {
        "remaining": 7,
        "refill": {"interval": "monthly", "amount": 50},
    }


def test_a_refill_needs_credits_and_credits_a_count(db: str) -> None:
    base = ("keys", "issue", "--user", "u", "--name", "n")
    assert_one_line_error(keygate(*base, "--refill", "daily", database_url=db), 2)
    assert_one_line_error(keygate(*base, "--credits", "-3", database_url=db), 2)
    weekly = keygate(*base, "--credits", "5", "--refill", "weekly", database_url=db)
    assert_one_line_error(weekly, 2)
