"""Every request under /api/ leaves exactly one request_logs row, whatever its outcome."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from dependency_injector import providers

from entrypoints.container import Container, build_container
from entrypoints.http.app import create_asgi
from entrypoints.http.edge import Edge, EdgeConfig
from entrypoints.http.edge.request_log import CLIENT_CLOSED_REQUEST
from entrypoints.settings import Settings
from tests.support.asgi import Message, Recorder, scope_for
from tests.support.clients import Client
from tests.support.keys import bearer, issue
from tests.support.logs import logged_rows

TEST_CLIENT_IP = "testclient"  # the peer address Litestar's test client puts in the scope


@dataclass(frozen=True)
class Case:
    method: str
    url: str
    status: int
    with_key: bool  # whether the row should name the key
    key_permissions: tuple[str, ...] = ("read", "write")
    rate_limit: int | None = None
    body: bytes | None = None
    bad_key: bool = False
    before: int = 0  # requests the case makes first, each also logged


CASES = {
    "200": Case("GET", "/api/keys?page=1&limit=5", 200, with_key=True),
    "201 sign-up without a key": Case(
        "POST", "/api/auth/register", 201, with_key=False, body=b'{"name": "n"}'
    ),
    "400 malformed JSON": Case(
        "POST", "/api/v1/auth/register", 400, with_key=True, body=b'{"name": '
    ),
    "401 no key": Case("GET", "/api/keys", 401, with_key=False),
    "401 unknown key": Case("GET", "/api/keys", 401, with_key=False, bad_key=True),
    "403 permission": Case(
        "POST",
        "/api/auth/register",
        403,
        with_key=True,
        key_permissions=("read",),
        body=b'{"name": "n", "permissions": ["write"]}',
    ),
    "404 unknown path": Case("GET", "/api/v2/nothing/here?x=1", 404, with_key=True),
    "404 unknown key id": Case("GET", "/api/keys/999999/usage", 404, with_key=True),
    "405": Case("PUT", "/api/keys", 405, with_key=True),
    "413": Case("POST", "/api/auth/register", 413, with_key=True, body=b"x" * (1024 * 1024 + 1)),
    "429": Case("GET", "/api/keys", 429, with_key=True, rate_limit=1, before=1),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_each_outcome_gives_exactly_one_row(
    client: Client, container: Container, db: str, case: Case
) -> None:
    issued = await issue(container, permissions=case.key_permissions, rate_limit=case.rate_limit)
    headers = {"Authorization": "Bearer rk_" + "0" * 64} if case.bad_key else {}
    if case.with_key:
        headers = bearer(issued)
    if case.body is not None:
        headers["Content-Type"] = "application/json"
    for _ in range(case.before):
        await client.get("/api/keys", headers=headers)
    started = datetime.now(UTC)

    response = await client.request(case.method, case.url, headers=headers, content=case.body)

    assert response.status_code == case.status
    rows = await logged_rows(db, case.before + 1)
    assert len(rows) == case.before + 1
    row = rows[-1]
    assert row["method"] == case.method
    assert row["path"] == case.url.split("?")[0]
    assert row["status_code"] == case.status
    assert row["api_key_id"] == (issued.key.id if case.with_key else None)
    assert row["ip_address"] == TEST_CLIENT_IP
    assert 0 < row["response_time_ms"] < 10_000
    assert started <= row["created_at"] <= datetime.now(UTC)


class Exploding:
    async def __call__(self, *_: Any) -> Any:
        raise RuntimeError("boom")


async def test_a_use_case_that_raises_is_one_500_row(
    client: Client, container: Container, db: str
) -> None:
    issued = await issue(container)
    with container.key_usage.override(providers.Object(Exploding())):
        response = await client.get(f"/api/keys/{issued.key.id}/usage", headers=bearer(issued))
    assert response.status_code == 500
    assert "boom" not in response.text
    rows = await logged_rows(db, 1)
    assert [(r["status_code"], r["api_key_id"]) for r in rows] == [(500, issued.key.id)]


async def test_a_failure_in_the_outer_layer_itself_is_one_500_row(
    container: Container, db: str
) -> None:
    container.authenticate.override(providers.Object(Exploding()))
    async with Client(app=create_asgi(container), raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        response = await c.get("/api/keys", headers={"Authorization": "Bearer rk_x"})
        assert response.status_code == 500
        assert response.json()["requestId"] == response.headers["x-request-id"]
        rows = await logged_rows(db, 1)
    assert [(r["path"], r["status_code"], r["api_key_id"]) for r in rows] == [
        ("/api/keys", 500, None)
    ]


async def test_rows_are_visible_within_two_seconds_at_default_settings(
    settings: Settings, db: str
) -> None:
    defaults = replace(settings, log_flush_interval=Settings().log_flush_interval)
    app = create_asgi(build_container(defaults))
    async with Client(app=app, raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        for _ in range(20):
            await c.get("/api/nothing")
        rows = await logged_rows(db, 20, settle=0)
    assert len(rows) == 20


@pytest.fixture
async def edge(container: Container) -> AsyncIterator[Edge]:
    """The real application, its lifespan running, to be called as a bare ASGI app."""
    app = create_asgi(container)
    async with Client(app=app, raise_server_exceptions=False):  # type: ignore[arg-type]
        yield app


async def test_client_gone_while_sending_the_body_is_one_499_row(edge: Edge, db: str) -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b'{"name": ', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        return messages.pop(0) if len(messages) > 1 else messages[0]

    await edge(
        scope_for("POST", "/api/auth/register", content_type="application/json"),
        receive,
        Recorder(),
    )
    rows = await logged_rows(db, 1)
    assert [(r["method"], r["path"], r["status_code"]) for r in rows] == [
        ("POST", "/api/auth/register", CLIENT_CLOSED_REQUEST)
    ]


async def test_a_cancelled_request_is_one_499_row(edge: Edge, db: str) -> None:
    never = asyncio.Event()

    async def receive() -> Message:
        await never.wait()  # the body never comes
        raise AssertionError("unreachable")

    task = asyncio.create_task(
        edge(
            scope_for("POST", "/api/auth/register", content_type="application/json"),
            receive,
            Recorder(),
        )
    )
    await asyncio.sleep(0.2)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    rows = await logged_rows(db, 1)
    assert [(r["path"], r["status_code"]) for r in rows] == [
        ("/api/auth/register", CLIENT_CLOSED_REQUEST)
    ]


def wrapping(container: Container, app: Callable[..., Awaitable[None]], **settings: Any) -> Edge:
    config = EdgeConfig(
        authenticate=container.authenticate(),
        check_quota=container.check_quota(),
        log_sink=container.request_log_sink(),
        registration_per_hour=20,
        **settings,
    )
    return Edge(app, config)


async def test_an_app_failing_after_its_status_line_is_logged_as_500(
    edge: Edge, container: Container, db: str
) -> None:
    async def cut_short(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"[1,", "more_body": True})
        raise RuntimeError("lost the rest")

    sent = Recorder()
    await wrapping(container, cut_short)(scope_for("GET", "/api/anything"), None, sent)
    assert sent.messages[0]["status"] == 200
    rows = await logged_rows(db, 1)
    assert [(r["path"], r["status_code"]) for r in rows] == [("/api/anything", 500)]


async def test_forwarded_for_is_believed_only_from_trusted_proxies(
    edge: Edge, container: Container, db: str
) -> None:
    async def ok(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    proxied = wrapping(container, ok, trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),))
    forwarded = "198.51.100.7, 10.1.1.1"
    await proxied(
        scope_for("GET", "/api/a", ("10.0.0.2", 1), x_forwarded_for=forwarded), None, Recorder()
    )
    await proxied(
        scope_for("GET", "/api/b", ("192.0.2.1", 1), x_forwarded_for=forwarded), None, Recorder()
    )
    await proxied(scope_for("GET", "/not-api"), None, Recorder())
    rows = await logged_rows(db, 2)
    assert [(r["path"], r["ip_address"]) for r in rows] == [
        ("/api/a", "198.51.100.7"),
        ("/api/b", "192.0.2.1"),
    ]
