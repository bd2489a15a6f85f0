"""`keygate usage rebuild`: the rollups recounted from the raw rows, and bad input in
one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from entrypoints.cli.main import main

BASE = datetime(2001, 5, 5, tzinfo=UTC)


def rebuild(monkeypatch: pytest.MonkeyPatch, database_url: str, *args: str) -> int:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DB_TIMEOUT", "0.5")
    return main(["usage", "rebuild", *args])


def test_rebuild_recounts_the_rollups_from_the_raw_rows(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        key = conn.execute(
            "INSERT INTO api_keys (user_id, name, key_hash, prefix) VALUES ('u', 'k', 'h', 'p')"
            " RETURNING id"
        ).fetchone()
        assert key is not None
        for hours in (0, 5, 30):
            conn.execute(
                "INSERT INTO request_logs (api_key_id, method, path, status_code,"
                " response_time_ms, created_at) VALUES (%s, 'GET', '/api/x', 200, 1, %s)",
                (key[0], BASE + timedelta(hours=hours)),
            )
        # A restore with triggers off: the rollups know nothing of the rows.
        conn.execute("TRUNCATE usage_status_deltas, usage_latency_deltas")
    assert rebuild(monkeypatch, db, "--since", "2001-05-05T04:00:00Z") == 0
    assert "2 request(s) counted" in capsys.readouterr().out
    assert rebuild(monkeypatch, db) == 0
    assert "3 request(s) counted" in capsys.readouterr().out
    with psycopg.connect(db) as conn:
        kept = conn.execute("SELECT sum(n) FROM usage_status").fetchone()
    assert kept == (3,)


@pytest.mark.parametrize("since", ["yesterday", "2001-13-01", ""])
def test_a_bad_since_is_a_usage_error(
    db: str, since: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        rebuild(monkeypatch, db, "--since", since)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--since" in err and "Traceback" not in err
