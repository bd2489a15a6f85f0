"""GET /api/keys/{id}/usage against rows put in place by hand (the triggers roll them
up), with numbers worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue

# (hours before the current hour, status, ms); each row sits 10 minutes into its hour.
KEY_ROWS = [
    (0, 200, 10.0),
    (0, 201, 20.0),
    (0, 404, 30.0),
    (1, 500, 40.0),
    (1, 429, 50.0),
    (23, 301, 60.0),
    (30, 200, 1000.0),  # outside the 24 h window
]


async def test_usage_matches_a_hand_computed_fixture(
    client: Client,
    container: Container,
    db: str,
) -> None:
    key = await issue(container)
    other = await issue(container, user="bob")
    this_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rows = [(key.key.id, h, s, ms) for h, s, ms in KEY_ROWS] + [(other.key.id, 0, 200, 5.0)]
    with psycopg.connect(db, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO request_logs (api_key_id, method, path, status_code,"
            " response_time_ms, ip_address, created_at) VALUES (%s, 'GET', '/api/x', %s, %s,"
            " '192.0.2.1', %s)",
            [
                (k, s, ms, this_hour - timedelta(hours=h) + timedelta(minutes=10))
                for k, h, s, ms in rows
            ],
        )

    response = await client.get(f"/api/keys/{key.key.id}/usage", headers=bearer(key))

    assert response.status_code == 200
    body = response.json()
    assert body["keyId"] == key.key.id
    assert body["total"] == 6
    assert body["byStatus"] == {"2xx": 2, "3xx": 1, "4xx": 2, "5xx": 1}
    # percentile_cont over 10..60: the median between 30 and 40; p95 at 4.75 of 0..5;
    # the rollups' histogram gives them within 5 %.
    latency = body["latencyMs"]
    assert latency["p50"] == pytest.approx(35.0, rel=0.05)
    assert latency["p95"] == pytest.approx(57.5, rel=0.05)
    assert latency["p99"] == pytest.approx(59.5, rel=0.05)
    hourly = body["hourly"]
    assert len(hourly) == 24
    assert [h["count"] for h in hourly] == [1] + [0] * 21 + [2, 3]
    first, last = (
        datetime.fromisoformat(hourly[i]["hour"].replace("Z", "+00:00")) for i in (0, -1)
    )
    assert last == this_hour
    assert first == this_hour - timedelta(hours=23)


async def insert_rows(db: str, rows: list[tuple[int, int, float, datetime]]) -> None:
    with psycopg.connect(db, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO request_logs (api_key_id, method, path, status_code,"
            " response_time_ms, created_at) VALUES (%s, 'GET', '/api/x', %s, %s, %s)",
            rows,
        )


async def test_usage_over_a_range_by_day(client: Client, container: Container, db: str) -> None:
    key = await issue(container)
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = day - timedelta(days=10)
    rows = [(key.key.id, 200, 5.0, start + timedelta(days=d, hours=h)) for d, h in
            ((0, 1), (0, 23), (2, 12), (9, 0), (10, 0))]  # fmt: skip
    await insert_rows(db, rows)
    params = {"from": start.isoformat(), "to": (start + timedelta(days=10)).isoformat(),
              "granularity": "day"}  # fmt: skip
    response = await client.get(f"/api/keys/{key.key.id}/usage", headers=bearer(key), params=params)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 4  # the tenth day starts at `to`: not in the range
    assert [h["count"] for h in body["hourly"]] == [2, 0, 1, 0, 0, 0, 0, 0, 0, 1]
    assert body["hourly"][0]["hour"].startswith(start.date().isoformat())
    params["granularity"] = "hour"
    response = await client.get(f"/api/keys/{key.key.id}/usage", headers=bearer(key), params=params)
    assert len(response.json()["hourly"]) == 240 and response.json()["total"] == 4


@pytest.mark.parametrize(
    "params",
    [
        {"from": "yesterday"},
        {"to": "2026-02-30T00:00:00Z"},
        {"granularity": "week"},
        {"to": "0001-01-01T00:00:00Z"},
        {"to": "9999-12-31T23:59:59Z", "from": "2026-12-01T00:00:00"},
        {"from": "2020-01-01T00:00:00Z"},
        {"from": "2026-12-01T10:00:00Z", "to": "2026-12-01T09:00:00Z"},
    ],
)
async def test_bad_ranges_are_a_400_with_a_json_body(
    client: Client, container: Container, params: dict[str, str]
) -> None:
    key = await issue(container)
    response = await client.get(f"/api/keys/{key.key.id}/usage", headers=bearer(key), params=params)
    assert response.status_code == 400
    assert response.json()["error"]
