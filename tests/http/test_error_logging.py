"""What the server logs about errors: an unexpected one once, at ERROR, with the request
id (the id a client sees in the 500's body); a client's mistake nothing above DEBUG,
and no traceback anywhere."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from dependency_injector import providers

from entrypoints.container import Container
from entrypoints.http.app import create_asgi
from tests.support.clients import Client
from tests.support.keys import bearer, issue

JSON = {"Content-Type": "application/json"}


class Exploding:
    async def __call__(self, *_: Any) -> Any:
        raise RuntimeError("boom")


def server_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records above DEBUG, or with a traceback, but the test client's own lines."""
    return [
        r
        for r in caplog.records
        if r.name != "httpx" and (r.levelno > logging.DEBUG or r.exc_info is not None)
    ]


async def test_client_errors_log_nothing_above_debug(
    client: Client,
    container: Container,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    reader = bearer(await issue(container, "alice", permissions=("read",)))
    limited = bearer(await issue(container, "bob", rate_limit=1))
    await client.get("/api/keys", headers=limited)
    caplog.clear()
    capfd.readouterr()
    with caplog.at_level(logging.DEBUG):
        for method, path, headers, body, status in (
            ("GET", "/api/keys", {}, None, 401),
            ("GET", "/api/keys", {"Authorization": "Bearer rk_nope"}, None, 401),
            ("POST", "/api/resources", {**reader, **JSON}, b'{"name": "n"}', 403),
            ("GET", "/api/nothing", reader, None, 404),
            ("GET", "/api/resources/99", reader, None, 404),
            ("PUT", "/api/keys", reader, None, 405),
            ("POST", "/api/resources", {**reader, **JSON}, b'{"name": ', 400),
            ("POST", "/api/resources", {**reader, **JSON}, b'{"name": "\xff"}', 400),
            ("POST", "/api/resources", {**reader, **JSON}, b'{"name": 1, "name": 2}', 400),
            ("POST", "/api/resources", {**reader, **JSON}, b'{"name": "\x00"}', 400),
            ("POST", "/api/resources", {**reader, **JSON}, b"[" * 5000 + b"]" * 5000, 400),
            ("GET", "/api/resources?limit=x", reader, None, 400),
            ("GET", "/api/keys", {**reader, "Accept-Version": "9"}, None, 400),
            ("POST", "/api/auth/register", {**reader, **JSON}, b"x" * (1024 * 1024 + 1), 413),
            ("GET", "/api/keys", limited, None, 429),
        ):
            response = await client.request(method, path, headers=headers, content=body)
            assert response.status_code == status, (method, path, response.text[:200])
    assert server_records(caplog) == []
    assert "Traceback" not in capfd.readouterr().err


async def test_an_unexpected_error_logs_once_at_error_with_the_request_id(
    client: Client, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    issued = await issue(container)
    caplog.clear()
    with (
        container.key_usage.override(providers.Object(Exploding())),
        caplog.at_level(logging.DEBUG),
    ):
        response = await client.get(f"/api/keys/{issued.key.id}/usage", headers=bearer(issued))
    assert response.status_code == 500
    request_id = response.json()["requestId"]
    [record] = server_records(caplog)
    assert record.levelno == logging.ERROR
    assert request_id in record.getMessage()
    assert record.exc_info is not None


@pytest.fixture
async def failing_edge(container: Container) -> AsyncIterator[Client]:
    """The app with an authentication that raises: the outer layer itself fails.
    Started here, not in the test: Litestar's start-up configures logging anew,
    which would drop the test's log capture."""
    container.authenticate.override(providers.Object(Exploding()))
    async with Client(app=create_asgi(container), raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        yield client


async def test_a_failure_in_the_outer_layer_logs_once_at_error(
    failing_edge: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = await failing_edge.get("/api/keys", headers={"Authorization": "Bearer rk_x"})
    assert response.status_code == 500
    [record] = server_records(caplog)
    assert record.levelno == logging.ERROR
    assert response.headers["x-request-id"] in record.getMessage()
