"""The scrape of a real `keygate serve --workers 2`: both workers add up to one
consistent answer, whichever of them serves the scrape; METRICS_PORT moves it to a port
of its own, served by serve's own process."""

from __future__ import annotations

import httpx
import pytest

from tests.support.metrics import Samples, parse, value
from tests.support.servers import free_port, running_server

pytestmark = pytest.mark.slow
HEALTH = {
    "http_request_method": "GET",
    "http_route": "/api/health",
    "http_response_status_code": "200",
}
COUNT = "http_server_request_duration_seconds_count"


def fresh() -> httpx.Client:
    # No keep-alive: each request a new connection, so the workers share them.
    return httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0))


def scrape(http: httpx.Client, url: str, **headers: str) -> Samples:
    response = http.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return parse(response.text)


def test_seven_requests_over_two_workers_are_exactly_seven_more(db: str) -> None:
    with running_server(db, {"WORKERS": "2"}) as server, fresh() as http:
        before = {value(scrape(http, f"{server.url}/metrics"), COUNT, **HEALTH) for _ in range(6)}
        assert len(before) == 1  # every worker answers the scrape alike
        for _ in range(7):
            assert http.get(f"{server.url}/api/health").status_code == 200
        after = {value(scrape(http, f"{server.url}/metrics"), COUNT, **HEALTH) for _ in range(10)}
        assert after == {before.pop() + 7}


def test_metrics_port_serves_the_workers_scrape_behind_the_token(db: str) -> None:
    port = free_port()
    env = {"WORKERS": "2", "METRICS_PORT": str(port), "METRICS_TOKEN": "t0ken"}
    with running_server(db, env) as server, fresh() as http:
        url = f"http://127.0.0.1:{port}/metrics"
        assert http.get(url).status_code == 401
        assert http.get(f"{server.url}/metrics").status_code == 404
        before = value(scrape(http, url, Authorization="Bearer t0ken"), COUNT, **HEALTH)
        assert before >= 1  # the readiness polls of running_server
        for _ in range(3):
            assert http.get(f"{server.url}/api/health").status_code == 200
        after = value(scrape(http, url, Authorization="Bearer t0ken"), COUNT, **HEALTH)
        assert after == before + 3
