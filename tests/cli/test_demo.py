"""`keygate demo`: an empty database gets a sample to list, search and sort, and a key."""

from __future__ import annotations

import psycopg

from entrypoints.cli.demo_data import SAMPLE
from tests.support.cli import keygate


def test_demo_fills_an_empty_database_once(db: str) -> None:
    filled = keygate("demo", database_url=db)
    assert filled.returncode == 0, filled.stderr
    expected = sum(len(items) for items in SAMPLE.values())
    assert filled.stdout.startswith(f"created {expected} resources in {len(SAMPLE)} categories")
    key = filled.stdout.split("shown once): ", 1)[1].split()[0]
    assert key.startswith("rk_") and len(key) == 67
    with psycopg.connect(db) as conn:
        rows = conn.execute("SELECT category, count(*) FROM resources GROUP BY 1").fetchall()
        (owner,) = conn.execute(
            "SELECT user_id FROM api_keys WHERE prefix = %s", (key[:11],)
        ).fetchone() or ("?",)
    assert dict(rows) == {category: len(items) for category, items in SAMPLE.items()}
    assert owner == "demo"

    again = keygate("demo", database_url=db)
    assert again.returncode == 1
    assert again.stderr == (
        f"keygate: error: the database already holds {expected} resource(s);"
        " keygate demo fills an empty one\n"
    )
