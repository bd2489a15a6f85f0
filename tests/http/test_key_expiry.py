"""Key expiry over HTTP on the real database: set at registration, judged at the instant
a request is authenticated, listed after it passed, and freeing no quota."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from application.keys import ListKeys
from entrypoints.container import Container
from entrypoints.http.app import create_asgi
from tests.fakes import FakeClock
from tests.support.clients import Client
from tests.support.keys import bearer, issue

REGISTER = "/api/auth/register"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_a_key_registered_with_an_expiry_shows_it_everywhere(client: Client) -> None:
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    # Sent with an offset; answered in UTC with a Z.
    local = expires.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    body = {"name": "short-lived", "expiresAt": local}
    created = await client.post(REGISTER, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["expiresAt"] == iso(expires)
    listed = await client.get(
        "/api/keys", headers={"Authorization": f"Bearer {created.json()['key']}"}
    )
    assert listed.json()["data"][0]["expiresAt"] == iso(expires)


@pytest.mark.parametrize(
    "value",
    [
        "2027-01-31T12:00:00",  # no zone
        "2020-01-01T00:00:00Z",  # past
        "2999-01-01T00:00:00Z",  # beyond ten years
        "next tuesday",
        "",
        1893456000,
        True,
        [],
    ],
)
async def test_a_bad_expiry_is_a_400_naming_expires_at(client: Client, value: Any) -> None:
    response = await client.post(REGISTER, json={"name": "k", "expiresAt": value})
    assert response.status_code == 400, response.text
    assert [d["field"] for d in response.json()["details"]] == ["expiresAt"]


async def test_an_expired_key_is_401_api_key_expired_but_stays_listed(
    client: Client, container: Container, db: str
) -> None:
    lister = await issue(container)
    expiring = await issue(container, expires_at=datetime.now(UTC) + timedelta(seconds=1))
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(
            "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = %s",
            (expiring.key.id,),
        )
    response = await client.get("/api/keys", headers=bearer(expiring))
    assert (response.status_code, response.json()) == (401, {"error": "API key expired"})
    assert response.headers["www-authenticate"] == "Bearer"
    items = {
        k["id"]: k for k in (await client.get("/api/keys", headers=bearer(lister))).json()["data"]
    }
    assert items[expiring.key.id]["isActive"] is True
    assert items[expiring.key.id]["expiresAt"] < iso(datetime.now(UTC))


@pytest.fixture
async def clocked(container: Container) -> AsyncIterator[tuple[Client, FakeClock]]:
    """The app on a clock the test moves, starting now."""
    clock = FakeClock(datetime.now(UTC))
    container.clock.override(clock)
    async with AsyncTestClient(app=create_asgi(container)) as client:  # type: ignore[arg-type]
        yield client, clock


async def test_a_request_is_judged_when_it_is_authenticated_not_when_it_ends(
    clocked: tuple[Client, FakeClock], container: Container
) -> None:
    client, clock = clocked
    key = await issue(container, expires_at=clock.now() + timedelta(seconds=30))
    inner = container.list_keys()

    class SlowListKeys(ListKeys):
        def __init__(self) -> None:
            pass

        async def __call__(self, *args: Any, **kwargs: Any) -> Any:
            clock.advance(60)  # the key expires while its request is being served
            return await inner(*args, **kwargs)

    container.list_keys.override(SlowListKeys())
    response = await client.get("/api/keys", headers=bearer(key))
    assert response.status_code == 200
    assert response.json()["data"][0]["id"] == key.key.id
    container.list_keys.reset_override()
    response = await client.get("/api/keys", headers=bearer(key))
    assert (response.status_code, response.json()["error"]) == (401, "API key expired")


async def test_expiry_at_the_edge_of_a_quota_window_frees_no_quota(
    clocked: tuple[Client, FakeClock], container: Container
) -> None:
    client, clock = clocked
    admin = await issue(container, permissions=("admin",), rate_limit=1000)
    key = await issue(container, rate_limit=2, expires_at=clock.now() + timedelta(seconds=30))
    assert [(await client.get("/api/keys", headers=bearer(key))).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    clock.advance(30)
    # Expired: refused before the quota is asked, so the refusal counts nothing either.
    for _ in range(3):
        assert (await client.get("/api/keys", headers=bearer(key))).status_code == 401
    later = iso(clock.now() + timedelta(days=1))
    patched = await client.patch(
        f"/api/keys/{key.key.id}", json={"expiresAt": later}, headers=bearer(admin)
    )
    assert patched.status_code == 200, patched.text
    # Alive again within the same hour: the two requests it made still count.
    again = await client.get("/api/keys", headers=bearer(key))
    assert again.status_code == 429
    assert again.headers["x-ratelimit-remaining"] == "0"
