"""List totals by `Prefer: count=exact|planned|estimated` (docs/api.md, "List totals"):
the page rows are exact and in total order whatever the mode; only `total` may be an
estimate, and then it says so."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from domain.keys import IssuedKey
from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue

MATCHES = 1500  # above the 1,000 an estimated total counts up to
OTHERS = 300


@pytest.fixture
async def alice(client: Client, container: Container) -> IssuedKey:
    return await issue(container, "alice", ("read", "write"), rate_limit=100_000)


@pytest.fixture
def rows(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO resources (name, description, category, created_by, created_at)"
            " SELECT 'Cloud ' || g, 'item ' || g, 'cat-' || (g %% 3), 'alice',"
            " now() - g * interval '1 second' FROM generate_series(1, %s) AS g",
            (MATCHES,),
        )
        conn.execute(
            "INSERT INTO resources (name, created_by)"
            " SELECT 'plain ' || g, 'alice' FROM generate_series(1, %s) AS g",
            (OTHERS,),
        )
        conn.execute("ANALYZE resources")


async def listing(
    client: Client, who: IssuedKey, prefer: str | None = None, **params: Any
) -> tuple[dict[str, Any], str | None]:
    headers = bearer(who) | ({"Prefer": prefer} if prefer else {})
    response = await client.get("/api/resources", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json(), response.headers.get("preference-applied")


@pytest.mark.usefixtures("rows")
async def test_a_search_is_estimated_by_default_and_says_so(
    client: Client, alice: IssuedKey
) -> None:
    body, applied = await listing(client, alice, search="cloud")
    page = body["pagination"]
    assert applied == "count=estimated"
    assert page["totalIsEstimate"] is True
    assert page["total"] > 1000 and page["hasNext"] is True
    assert page["totalPages"] == -(-page["total"] // 20)
    assert len(body["data"]) == 20
    assert all("cloud" in r["name"].lower() for r in body["data"])
    stamps = [r["createdAt"] for r in body["data"]]
    assert stamps == sorted(stamps, reverse=True)


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize("prefer", ["count=exact", "return=minimal, Count=EXACT", 'count="exact"'])
async def test_an_exact_count_is_asked_for(client: Client, alice: IssuedKey, prefer: str) -> None:
    body, applied = await listing(client, alice, prefer, search="cloud")
    assert applied == "count=exact"
    assert body["pagination"]["total"] == MATCHES
    assert body["pagination"]["totalIsEstimate"] is False


@pytest.mark.usefixtures("rows")
async def test_planned_is_the_planners_figure(client: Client, alice: IssuedKey) -> None:
    body, applied = await listing(client, alice, "count=planned", search="cloud", limit=10)
    assert applied == "count=planned"
    assert body["pagination"]["totalIsEstimate"] is True
    assert body["pagination"]["total"] >= 11  # never below what the rows prove
    assert body["pagination"]["hasNext"] is True


@pytest.mark.usefixtures("rows")
async def test_few_matches_are_counted_exactly_in_the_default_mode(
    client: Client, alice: IssuedKey
) -> None:
    body, applied = await listing(client, alice, search="cloud 1", category="cat-1")
    with_term = [n for n in range(1, MATCHES + 1) if str(n).startswith("1") and n % 3 == 1]
    assert applied == "count=estimated"
    assert body["pagination"]["total"] == len(with_term)
    assert body["pagination"]["totalIsEstimate"] is False


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize("prefer", ["count=planned", "count=estimated", "count=bogus", None])
async def test_without_a_search_every_mode_is_the_exact_kept_count(
    client: Client, alice: IssuedKey, prefer: str | None
) -> None:
    body, applied = await listing(client, alice, prefer)
    assert applied == "count=exact"
    assert body["pagination"]["total"] == MATCHES + OTHERS
    assert body["pagination"]["totalIsEstimate"] is False


@pytest.mark.usefixtures("rows")
async def test_an_unknown_preference_keeps_the_default(client: Client, alice: IssuedKey) -> None:
    _, applied = await listing(client, alice, "count=bogus", search="cloud")
    assert applied == "count=estimated"


@pytest.mark.usefixtures("rows")
async def test_the_last_page_tells_the_total_exactly(client: Client, alice: IssuedKey) -> None:
    last = -(-MATCHES // 100)
    body, _ = await listing(client, alice, "count=planned", search="cloud", limit=100, page=last)
    page = body["pagination"]
    assert len(body["data"]) == MATCHES - (last - 1) * 100
    assert page["hasNext"] is False and page["nextCursor"] is None
    assert page["total"] == MATCHES and page["totalIsEstimate"] is False
    assert page["totalPages"] == last
    beyond, _ = await listing(client, alice, search="cloud", limit=100, page=last + 5)
    assert beyond["data"] == [] and beyond["pagination"]["hasNext"] is False
    assert beyond["pagination"]["total"] <= (last + 4) * 100


@pytest.mark.usefixtures("rows")
async def test_a_cursor_walk_sees_every_match_once_whatever_the_estimate(
    client: Client, alice: IssuedKey
) -> None:
    seen: list[int] = []
    params: dict[str, Any] = {"search": "cloud", "limit": 100, "sort": "name", "order": "asc"}
    while True:
        body, _ = await listing(client, alice, "count=planned", **params)
        seen += [r["id"] for r in body["data"]]
        if not body["pagination"]["hasNext"]:
            break
        params = {"cursor": body["pagination"]["nextCursor"], "limit": 100}
    assert len(seen) == len(set(seen)) == MATCHES


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize("term", ["o'c", "a\\%_b", "x\x1fy", "'; SELECT 1; --"])
async def test_awkward_terms_are_estimated_safely(
    client: Client, alice: IssuedKey, term: str
) -> None:
    for mode in ("planned", "estimated", "exact"):
        body, applied = await listing(client, alice, f"count={mode}", search=term)
        assert applied == f"count={mode}"
        assert body["data"] == [] and body["pagination"]["hasNext"] is False


@pytest.mark.usefixtures("rows")
async def test_v2_carries_the_estimate_flag_in_meta(client: Client, alice: IssuedKey) -> None:
    response = await client.get(
        "/api/v2/resources", params={"search": "cloud"}, headers=bearer(alice)
    )
    assert response.json()["meta"]["pagination"]["totalIsEstimate"] is True
    assert response.headers["preference-applied"] == "count=estimated"
