"""GET /metrics in one process: the contract's names and labels, route templates and
never raw paths, the token, and a scrape that is neither logged nor rate limited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from entrypoints.container import Container, build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.asgi import call
from tests.support.clients import Client
from tests.support.keys import bearer, issue
from tests.support.metrics import Samples, parse, series, total, value
from tests.support.waiting import eventually

DURATION = "http_server_request_duration_seconds_count"
RESOURCE = "/api/v1/resources/{resource_id}"
CONTRACT_NAMES = {
    "http_server_request_duration_seconds",
    "http_server_active_requests",
    "keygate_quota_decisions",
    "keygate_auth_failures",
    "keygate_request_log_buffered",
    "keygate_request_log_dropped",
    "keygate_request_log_written",
    "keygate_webhook_deliveries",
    "keygate_webhook_queue_depth",
    "keygate_db_pool_connections",
}


async def scrape(client: Client, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


@pytest.fixture
async def token_client(settings: Settings) -> AsyncIterator[Client]:
    app = create_asgi(build_container(replace(settings, metrics_token="s3cret-token")))
    async with Client(app=app, raise_server_exceptions=False) as c:
        yield c


async def test_the_scrape_has_every_name_of_the_contract(client: Client) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    response = await client.get("/metrics")
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert names >= CONTRACT_NAMES


async def test_requests_are_counted_by_method_route_template_and_status(
    client: Client, container: Container
) -> None:
    key = await issue(container)
    before = await scrape(client)
    for resource_id in ("1", "22", "333"):
        assert (
            await client.get(f"/api/v1/resources/{resource_id}", headers=bearer(key))
        ).status_code == 404
    assert (await client.get("/api/v1/resources/4")).status_code == 401  # refused before routing
    after = await scrape(client)
    labels = {"http_request_method": "GET", "http_route": RESOURCE}
    assert (
        value(after, DURATION, **labels, http_response_status_code="404")
        - value(before, DURATION, **labels, http_response_status_code="404")
        == 3
    )
    assert (
        value(after, DURATION, **labels, http_response_status_code="401")
        - value(before, DURATION, **labels, http_response_status_code="401")
        == 1
    )
    routes = {dict(ls).get("http_route") for (_, ls) in series(after)}
    assert not any(r and ("333" in r or r.endswith("/4")) for r in routes)
    # The scrape itself is not a request the metrics count.
    assert total(after, DURATION, http_route="/metrics") == 0
    assert value(after, "http_server_active_requests") == 0


async def test_ten_thousand_distinct_ids_make_no_new_series(client: Client) -> None:
    # One of each kind first: a resource refused for want of a key, a path nobody serves.
    assert (await client.get("/api/v1/resources/warm-up")).status_code == 401
    assert (await client.get("/api/nothing/warm-up")).status_code == 404
    before = series(await scrape(client))
    for i in range(5000):  # straight into the app: an HTTP client's own cost is most of it
        assert (await call(client.app, "GET", f"/api/v1/resources/id-{i}")).status == 401
        assert (await call(client.app, "GET", f"/api/nothing/{i}")).status == 404
    after = await scrape(client)
    assert series(after) == before
    assert (
        value(
            after,
            DURATION,
            http_request_method="GET",
            http_route=RESOURCE,
            http_response_status_code="401",
        )
        == 5001
    )


async def test_odd_methods_share_one_series(client: Client) -> None:
    for method in ("BREW", "PROPFIND", "X-ANYTHING"):
        await client.request(method, "/api/health")
    samples = await scrape(client)
    methods = {dict(ls).get("http_request_method") for (name, ls) in samples if name == DURATION}
    assert "_OTHER" in methods
    assert not methods & {"BREW", "PROPFIND", "X-ANYTHING"}


async def test_quota_decisions_and_auth_failures_are_counted(
    client: Client, container: Container
) -> None:
    key = await issue(container, rate_limit=2)
    expired = await issue(container, expires_at=datetime.now(UTC) + timedelta(seconds=1))
    before = await scrape(client)
    statuses = [(await client.get("/api/keys", headers=bearer(key))).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert (await client.get("/api/keys")).status_code == 401
    assert (
        await client.get("/api/keys", headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    await eventually(lambda: datetime.now(UTC) > expired.key.expires_at, within=5)  # type: ignore[operator]
    assert (await client.get("/api/keys", headers=bearer(expired))).status_code == 401
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("keygate_quota_decisions_total", outcome="admitted") == 2
    assert grew("keygate_quota_decisions_total", outcome="rejected") == 1
    assert grew("keygate_auth_failures_total", reason="missing") == 1
    assert grew("keygate_auth_failures_total", reason="invalid") == 1
    assert grew("keygate_auth_failures_total", reason="expired") == 1


async def test_written_rows_and_levels_show_in_the_scrape(client: Client, db: str) -> None:
    for _ in range(5):
        assert (await client.get("/api/health")).status_code == 200

    async def written_and_sampled() -> bool:
        samples = await scrape(client)
        # The pool's levels come with the sampler's first round, 2 s after the start.
        return (
            value(samples, "keygate_request_log_written_total") >= 5
            and total(samples, "keygate_db_pool_connections") >= 1
        )

    await eventually(written_and_sampled, within=10)
    assert value(await scrape(client), "keygate_request_log_dropped_total") == 0


async def test_the_scrape_is_neither_logged_nor_rate_limited(
    client: Client, container: Container, db: str
) -> None:
    key = await issue(container, rate_limit=1)
    for _ in range(5):
        response = await client.get("/metrics", headers=bearer(key))
        assert response.status_code == 200
        assert "x-ratelimit-limit" not in response.headers
    assert (await client.get("/api/health")).status_code == 200

    def health_logged() -> bool:
        with psycopg.connect(db) as conn:
            row = conn.execute(
                "SELECT count(*) FROM request_logs WHERE path = '/api/health'"
            ).fetchone()
        return bool(row and row[0] == 1)

    await eventually(health_logged, within=5)
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM request_logs WHERE path = '/metrics'").fetchone()
    assert row == (0,)


async def test_metrics_token_is_asked_for_as_a_bearer_token(token_client: Client) -> None:
    assert (await token_client.get("/metrics")).status_code == 401
    wrong = await token_client.get("/metrics", headers={"Authorization": "Bearer s3cret-tokeN"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]
    samples = await scrape(token_client, Authorization="Bearer s3cret-token")
    assert value(samples, "http_server_active_requests") == 0


async def test_with_metrics_port_the_api_port_serves_no_scrape(settings: Settings) -> None:
    app = create_asgi(build_container(replace(settings, metrics_port=9999)))
    async with Client(app=app, raise_server_exceptions=False) as c:
        assert (await c.get("/metrics")).status_code == 404


async def test_metrics_off_means_no_scrape(settings: Settings) -> None:
    app = create_asgi(build_container(replace(settings, metrics_enabled=False)))
    async with Client(app=app, raise_server_exceptions=False) as c:
        assert (await c.get("/metrics")).status_code == 404
        assert (await c.get("/api/health")).status_code == 200


async def test_made_up_methods_make_no_new_series(client: Client) -> None:
    await call(client.app, "BREW", "/api/health")
    before = series(await scrape(client))
    for i in range(300):
        await call(client.app, f"BREW{i}", "/api/health")
    assert series(await scrape(client)) == before
