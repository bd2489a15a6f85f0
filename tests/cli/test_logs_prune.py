"""`keygate logs prune`: retention from the command line, and its failures in one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from entrypoints.cli.main import main


def prune(monkeypatch: pytest.MonkeyPatch, database_url: str, *args: str) -> int:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DB_TIMEOUT", "0.5")
    return main(["logs", "prune", *args])


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_prune_removes_rows_older_than_the_age(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(db, autocommit=True) as conn:
        for hours in (1, 47, 49):
            conn.execute(
                "INSERT INTO request_logs (method, path, status_code, response_time_ms,"
                " created_at) VALUES ('GET', %s, 200, 1, %s)",
                (f"/api/{hours}h", now - timedelta(hours=hours)),
            )
    assert prune(monkeypatch, db, "--older-than", "48h") == 0
    assert "deleted 1 row(s)" in capsys.readouterr().out
    with psycopg.connect(db) as conn:
        paths = sorted(r[0] for r in conn.execute("SELECT path FROM request_logs"))
    assert paths == ["/api/1h", "/api/47h"]
    assert prune(monkeypatch, db, "--older-than", "30d") == 0


@pytest.mark.parametrize("age", ["30", "30m", "d", "-1d", "0d", "1.5d", "30 days", ""])
def test_a_bad_age_is_a_usage_error(
    db: str, age: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        prune(monkeypatch, db, "--older-than", age)
    assert exit_.value.code == 2
    assert "older-than" in one_line_error(capsys)


def test_an_unreachable_database_exits_1_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status = prune(monkeypatch, "postgresql://postgres@127.0.0.1:1/none", "--older-than", "30d")
    assert status == 1
    assert "database unreachable" in one_line_error(capsys)
