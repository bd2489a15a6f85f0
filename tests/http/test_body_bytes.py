"""Bodies that are not UTF-8 JSON, or that name a key twice, are a 400 naming the
problem: on every route that takes a body, v1 and v2, whatever the Content-Type, for
any key (before a permission is checked), and without a traceback in the logs.

msgspec raises UnicodeDecodeError, not its DecodeError, for invalid UTF-8 inside a
string, and Litestar let it through as a 500; a duplicate key silently kept the last.
"""

from __future__ import annotations

import logging

import pytest

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.keys import bearer, issue

NOT_UTF8 = {
    "invalid byte in a string": b'{"name": "\xff"}',
    "encoded surrogate": b'"\xed\xa0\x80"',
    "invalid byte in an array": b'[1, "\xfe"]',
    "latin-1": '{"name": "café"}'.encode("latin-1"),
    "truncated sequence": b'{"name": "\xe2\x82"}',
    "overlong encoding": b'{"name": "\xc0\xaf"}',
}
LONE_SURROGATE_ESCAPES = {
    "high": b'{"name": "\\ud800"}',
    "low": b'{"name": "x\\uDC00y"}',
    "in a key": b'{"name": "n", "metadata": {"\\ud83d": 1}}',
}
DUPLICATE_KEYS = {
    "top level": b'{"name": "a", "name": "b"}',
    "nested": b'{"name": "a", "metadata": {"k": 1, "k": 2}}',
    "in an array": b'{"name": "a", "metadata": {"list": [{"x": 1, "x": 1}]}}',
}
LOTS = 10_000  # requests an hour: these tests send many
CONTENT_TYPES = (
    "application/json",
    "application/json; charset=latin-1",
    "text/plain",
    "application/x-www-form-urlencoded",
)


@pytest.fixture
async def routes(client: Client, container: Container) -> list[tuple[str, str]]:
    """Every route that takes a body, v1 and v2."""
    issued = await issue(container, "alice")
    writer = bearer(issued)
    made = (await client.post("/api/resources", json={"name": "r"}, headers=writer)).json()
    routes = []
    for prefix in ("/api", "/api/v1", "/api/v2"):
        routes += [
            ("POST", f"{prefix}/resources"),
            ("PUT", f"{prefix}/resources/{made['id']}"),
            ("PATCH", f"{prefix}/resources/{made['id']}"),
            ("POST", f"{prefix}/webhooks"),
            ("POST", f"{prefix}/auth/register"),
            ("PATCH", f"{prefix}/keys/{issued.key.id}"),
        ]
    return routes


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the server logged above DEBUG (the test client's own lines aside)."""
    return [
        r
        for r in caplog.records
        if r.name != "httpx" and (r.levelno > logging.DEBUG or r.exc_info is not None)
    ]


async def post_all(
    client: Client,
    routes: list[tuple[str, str]],
    bodies: dict[str, bytes],
    headers: dict[str, str],
    expect: str,
) -> None:
    """Each body to each route, under each Content-Type in turn."""
    for n, (label, body) in enumerate(bodies.items()):
        for i, (method, path) in enumerate(routes):
            content_type = CONTENT_TYPES[(n + i) % len(CONTENT_TYPES)]
            response = await client.request(
                method, path, content=body, headers={**headers, "Content-Type": content_type}
            )
            where = (label, content_type, method, path, response.text[:200])
            assert response.status_code == 400, where
            error = response.json()
            assert expect in error["error"], where
            assert error["details"][0]["message"], where


@pytest.mark.parametrize("permissions", [("read", "write"), ("read",)])
async def test_a_body_that_is_not_utf8_is_a_400_for_any_key(
    client: Client,
    container: Container,
    routes: list[tuple[str, str]],
    caplog: pytest.LogCaptureFixture,
    permissions: tuple[str, ...],
) -> None:
    key = bearer(await issue(container, "bob", permissions=permissions, rate_limit=LOTS))
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        await post_all(client, routes, NOT_UTF8, key, "UTF-8")
        await post_all(client, routes, LONE_SURROGATE_ESCAPES, key, "Malformed JSON body")
    assert refusals(caplog) == []


async def test_sign_up_without_a_key_refuses_bytes_that_are_not_utf8(client: Client) -> None:
    for label, body in NOT_UTF8.items():
        response = await client.post(
            "/api/auth/register", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (label, response.text)
        assert response.json()["details"][0]["field"] == "body"


async def test_the_error_says_where_the_bad_byte_is(client: Client, container: Container) -> None:
    key = bearer(await issue(container, "alice"))
    response = await client.post("/api/resources", content=b'{"name": "ab\xff"}', headers=key)
    assert response.json() == {
        "error": "Request body is not valid UTF-8",
        "details": [{"field": "body", "message": "invalid byte 0xff at position 12"}],
    }


async def test_a_key_named_twice_is_a_400(
    client: Client,
    container: Container,
    routes: list[tuple[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = ("read", "write", "admin")
    key = bearer(await issue(container, "alice", permissions=admin, rate_limit=LOTS))
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        await post_all(client, routes, DUPLICATE_KEYS, key, "Duplicate key")
    assert refusals(caplog) == []
    response = await client.post("/api/resources", content=DUPLICATE_KEYS["top level"], headers=key)
    assert response.json()["details"] == [{"field": "name", "message": "appears more than once"}]
    listed = await client.get("/api/resources", headers=key)
    assert listed.json()["pagination"]["total"] == 1  # only the fixture's: nothing was made
