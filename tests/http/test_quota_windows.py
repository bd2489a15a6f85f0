"""Several windows per key over HTTP, and the look without spending (API.md, Quotas)."""

from __future__ import annotations

import psycopg

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue


def hour_count(db: str, key_id: int) -> int:
    with psycopg.connect(db) as conn:
        row = conn.execute(
            "SELECT coalesce((SELECT sum(x) FROM unnest(counts) x), 0) FROM quota_windows"
            " WHERE subject = %s",
            (f"key:{key_id}",),
        ).fetchone()
    return int(row[0]) if row else 0


async def test_the_minute_refuses_and_the_hour_does_not_move(
    client: Client, container: Container, db: str
) -> None:
    key = await issue(container, rate_limit=100, per_minute=2, per_day=1000)
    for remaining in (1, 0):
        ok = await client.get("/api/keys", headers=bearer(key))
        assert ok.status_code == 200
        assert ok.headers["x-ratelimit-limit"] == "2"
        assert ok.headers["x-ratelimit-remaining"] == str(remaining)
        assert ok.headers["ratelimit-policy"] == (
            '"minute";q=2;w=60, "hourly";q=100;w=3600, "daily";q=1000;w=86400'
        )
        assert ok.headers["ratelimit"].startswith(f'"minute";r={remaining};t=')
    for _ in range(3):
        refused = await client.get("/api/keys", headers=bearer(key))
        assert refused.status_code == 429
        seconds = int(refused.headers["retry-after"])
        assert 1 <= seconds <= 61
        message = f"Rate limit exceeded. Limit: 2 requests/minute. Try again in {seconds} seconds."
        assert refused.json() == {"error": message}
        assert refused.headers["x-ratelimit-remaining"] == "0"
    assert hour_count(db, key.key.id) == 2


async def test_the_hour_is_the_tightest_when_it_has_fewest_left(
    client: Client, container: Container
) -> None:
    key = await issue(container, rate_limit=3, per_minute=50)
    ok = await client.get("/api/keys", headers=bearer(key))
    assert (ok.headers["x-ratelimit-limit"], ok.headers["x-ratelimit-remaining"]) == ("3", "2")
    assert ok.headers["ratelimit"].startswith('"hourly";r=2;t=')
    assert "x-credits-remaining" not in ok.headers  # not metered


async def test_a_look_spends_nothing_of_the_key_it_looks_at(
    client: Client, container: Container
) -> None:
    caller = await issue(container, user="alice", rate_limit=50)
    looked = await issue(container, user="alice", rate_limit=10, per_minute=4, name="other")
    await client.get("/api/keys", headers=bearer(looked))
    url = f"/api/keys/{looked.key.id}/quota"
    bodies = []
    for expected_caller_left in (49, 48):
        answer = await client.get(url, headers=bearer(caller))
        assert answer.status_code == 200
        assert answer.headers["x-ratelimit-remaining"] == str(expected_caller_left)
        bodies.append(answer.json())
    remaining = [[w["remaining"] for w in b["windows"]] for b in bodies]
    assert remaining[0] == remaining[1]
    body = bodies[1]
    assert body["keyId"] == looked.key.id and body["credits"] is None
    assert [
        (w["name"], w["limit"], w["windowSeconds"], w["remaining"]) for w in body["windows"]
    ] == [
        ("minute", 4, 60, 3),
        ("hourly", 10, 3600, 9),
    ]
    assert all(0 < w["resetSeconds"] <= w["windowSeconds"] * 61 // 60 for w in body["windows"])
    own = await client.get(f"/api/keys/{caller.key.id}/quota", headers=bearer(caller))
    assert own.json()["windows"] == [
        {"name": "hourly", "limit": 50, "windowSeconds": 3600, "remaining": 47,
         "resetSeconds": own.json()["windows"][0]["resetSeconds"]}
    ]  # fmt: skip


async def test_another_users_key_is_not_found_and_an_admin_may_look(
    client: Client, container: Container
) -> None:
    alice = await issue(container, user="alice")
    bob = await issue(container, user="bob")
    admin = await issue(container, user="root", permissions=("admin",))
    missing = await client.get(f"/api/keys/{alice.key.id}/quota", headers=bearer(bob))
    assert missing.status_code == 404
    assert missing.json() == {"error": "API key not found"}
    seen = await client.get(f"/api/keys/{alice.key.id}/quota", headers=bearer(admin))
    assert seen.status_code == 200 and seen.json()["windows"][0]["remaining"] == 100
    bad = await client.get("/api/keys/nope/quota", headers=bearer(alice))
    assert bad.status_code in (400, 404) and "error" in bad.json()
