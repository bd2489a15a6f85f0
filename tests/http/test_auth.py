"""Every row of API.md's authentication table, over HTTP."""

from __future__ import annotations

from dataclasses import replace

import psycopg

from entrypoints.container import Container, build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.clients import Client
from tests.support.keys import bearer, issue


async def test_missing_header_is_401_with_challenge_and_hint(client: Client) -> None:
    response = await client.get("/api/keys")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "error": "Missing Authorization header",
        "hint": "Use: Authorization: Bearer <your_api_key>",
    }


async def test_other_schemes_are_treated_as_missing(client: Client) -> None:
    response = await client.get("/api/keys", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert response.json()["error"] == "Missing Authorization header"


async def test_empty_key_is_401(client: Client) -> None:
    for value in ("Bearer ", "Bearer"):
        response = await client.get("/api/keys", headers={"Authorization": value})
        assert response.status_code == 401
        assert response.json()["error"] == "Empty API key"
        assert response.headers["www-authenticate"] == "Bearer"


async def test_unknown_revoked_and_expired_keys_are_401(
    client: Client, container: Container, db: str
) -> None:
    unknown = {"Authorization": "Bearer rk_" + "0" * 64}
    revoked = await issue(container)
    expired = await issue(container)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE api_keys SET is_active = false WHERE id = %s", (revoked.key.id,))
        conn.execute(
            "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = %s",
            (expired.key.id,),
        )
    for headers, error in (
        (unknown, "Invalid or revoked API key"),
        (bearer(revoked), "Invalid or revoked API key"),
        (bearer(expired), "API key expired"),
    ):
        response = await client.get("/api/keys", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": error}
        assert response.headers["www-authenticate"] == "Bearer"


async def test_valid_key_is_admitted_and_bearer_scheme_is_case_insensitive(
    client: Client, container: Container
) -> None:
    issued = await issue(container)
    response = await client.get("/api/keys", headers={"Authorization": f"bearer {issued.raw_key}"})
    assert response.status_code == 200


async def test_auth_store_unreachable_is_503_with_retry_after(settings: Settings) -> None:
    down = replace(settings, database_url="postgresql://postgres@127.0.0.1:1/x", db_timeout=0.3)
    app = create_asgi(build_container(down))
    async with Client(app=app, raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        response = await client.get("/api/keys", headers={"Authorization": "Bearer rk_abc"})
    assert response.status_code == 503
    assert response.json() == {"error": "Authentication service unavailable"}
    assert int(response.headers["retry-after"]) >= 1


async def test_revocation_takes_effect_on_the_next_request(
    client: Client, container: Container
) -> None:
    issued = await issue(container)
    assert (await client.get("/api/keys", headers=bearer(issued))).status_code == 200
    response = await client.delete(f"/api/keys/{issued.key.id}", headers=bearer(issued))
    assert response.status_code == 204
    assert (await client.get("/api/keys", headers=bearer(issued))).status_code == 401


async def test_no_response_ever_holds_a_hash(client: Client, container: Container, db: str) -> None:
    issued = await issue(container)
    with psycopg.connect(db) as conn:
        (key_hash,) = conn.execute(
            "SELECT key_hash FROM api_keys WHERE id = %s", (issued.key.id,)
        ).fetchone()  # type: ignore[misc]
    for path in ("/api/keys", f"/api/keys/{issued.key.id}/usage", "/api/v2/keys"):
        body = (await client.get(path, headers=bearer(issued))).text
        assert key_hash not in body
        assert issued.raw_key not in body
