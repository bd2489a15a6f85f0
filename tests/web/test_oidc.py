"""Sign-in with OpenID Connect against a provider started by the test on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from domain.dashboard import oidc_user_id
from entrypoints.web.session import COOKIE_NAME
from tests.support.clients import Client
from tests.support.dashboard import DashboardFactory, csrf_for, csrf_of
from tests.support.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    EMAIL,
    SUBJECT,
    Provider,
    running_provider,
)

PUBLIC_BASE_URL = "http://testserver.local"


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider() as provider:
        yield provider


def provider_settings(issuer: str, secret: str | None = CLIENT_SECRET) -> dict[str, Any]:
    return {
        "oidc_issuer": issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": secret,
        "public_base_url": PUBLIC_BASE_URL,
    }


@pytest.fixture
async def oidc_web(
    dashboard_client_of: DashboardFactory, provider: Provider
) -> AsyncIterator[Client]:
    async with dashboard_client_of(**provider_settings(provider.issuer)) as client:
        yield client


async def start_login(client: Client) -> str:
    """Press the sign-in button, let the provider approve; the callback URL it sends back."""
    page = await client.get("/dashboard/signin")
    assert "Sign in with OpenID Connect" in page.text
    start = await client.post(
        "/dashboard/auth/login", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"{PUBLIC_BASE_URL}/dashboard/auth/callback"]
    assert query["nonce"][0] and query["state"][0]
    async with httpx.AsyncClient() as http:
        approved = await http.get(authorize, follow_redirects=False)
    assert approved.status_code == 302, approved.text
    callback = urlsplit(approved.headers["location"])
    return f"{callback.path}?{callback.query}"


async def login(client: Client) -> httpx.Response:
    return await client.get(await start_login(client), follow_redirects=False)


async def signed_in(client: Client) -> bool:
    return (await client.get("/dashboard/keys", follow_redirects=False)).status_code == 200


async def test_good_login_acts_for_the_issuer_and_subject(
    oidc_web: Client, provider: Provider
) -> None:
    response = await login(oidc_web)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dashboard/keys"
    page = await oidc_web.get("/dashboard/keys")
    assert page.status_code == 200 and EMAIL in page.text
    created = await oidc_web.post(
        "/dashboard/keys",
        data={"csrf": csrf_of(page.text), "name": "via oidc", "permissions": ["read", "write"]},
    )
    assert created.status_code == 201
    raw = created.text.split('id="raw-key" class="raw-key" readonly value="')[1].split('"')[0]
    keys = (await oidc_web.get("/api/keys", headers={"Authorization": f"Bearer {raw}"})).json()
    assert keys["data"][0]["userId"] == oidc_user_id(provider.issuer, SUBJECT)
    # A provider session never grants admin.
    wider = await oidc_web.post(
        "/dashboard/keys",
        data={"csrf": csrf_of(page.text), "name": "x", "permissions": ["admin"]},
    )
    assert wider.status_code == 403


async def test_a_callback_cannot_be_used_twice(oidc_web: Client) -> None:
    callback = await start_login(oidc_web)
    assert (await oidc_web.get(callback, follow_redirects=False)).status_code == 303
    csrf = await csrf_for(oidc_web)
    await oidc_web.post("/dashboard/signout", data={"csrf": csrf})
    again = await oidc_web.get(callback, follow_redirects=False)
    assert again.status_code == 400
    assert not await signed_in(oidc_web)


async def test_signing_out_ends_a_provider_session_on_every_instance(
    oidc_web: Client, dashboard_client_of: DashboardFactory, provider: Provider
) -> None:
    assert (await login(oidc_web)).status_code == 303
    cookie = oidc_web.cookies.get(COOKIE_NAME, path="/dashboard")
    csrf = await csrf_for(oidc_web)
    async with dashboard_client_of(**provider_settings(provider.issuer)) as other:
        other.cookies.set(COOKIE_NAME, cookie, path="/dashboard")
        assert await signed_in(other)
        await oidc_web.post("/dashboard/signout", data={"csrf": csrf}, follow_redirects=False)
        other.cookies.set(COOKIE_NAME, cookie, path="/dashboard")
        replayed = await other.post(
            "/dashboard/keys",
            data={"csrf": csrf, "name": "after sign-out", "permissions": ["read"]},
            follow_redirects=False,
        )
        assert replayed.status_code == 303
        assert replayed.headers["location"] == "/dashboard/signin?notice=ended"
        other.cookies.set(COOKIE_NAME, cookie, path="/dashboard")
        assert not await signed_in(other)


@pytest.mark.parametrize("state", ["\u00e9t\u00e9", "\U0001f600", "\x00"])
async def test_a_callback_with_a_state_of_any_characters_is_a_400_page(
    oidc_web: Client, state: str
) -> None:
    callback = await start_login(oidc_web)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    response = await oidc_web.get(
        "/dashboard/auth/callback", params={"state": state, "code": code}, follow_redirects=False
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert not await signed_in(oidc_web)


@pytest.mark.parametrize(
    ("misbehaviour", "message"),
    [
        ("bad-signature", "signature is not valid"),
        ("wrong-audience", "Invalid claim: &#39;aud&#39;"),
    ],
)
async def test_a_bad_id_token_is_refused(
    oidc_web: Client, provider: Provider, misbehaviour: str, message: str
) -> None:
    provider.misbehave = misbehaviour
    response = await login(oidc_web)
    assert response.status_code == 401
    assert message in response.text
    assert provider.token_requests == 1
    assert not await signed_in(oidc_web)


async def test_a_replayed_nonce_is_refused(oidc_web: Client, provider: Provider) -> None:
    assert (await login(oidc_web)).status_code == 303
    csrf = await csrf_for(oidc_web)
    await oidc_web.post("/dashboard/signout", data={"csrf": csrf})
    # The provider (or someone in between) hands back the first login's ID token: it is
    # validly signed and unexpired, but its nonce belongs to a login that is over.
    provider.misbehave = "replay-nonce"
    response = await login(oidc_web)
    assert response.status_code == 401
    assert "Invalid claim: &#39;nonce&#39;" in response.text
    assert not await signed_in(oidc_web)


async def test_login_button_needs_csrf_and_key_form_is_off(oidc_web: Client) -> None:
    await oidc_web.get("/dashboard/signin")
    assert (await oidc_web.post("/dashboard/auth/login", data={})).status_code == 403
    csrf = csrf_of((await oidc_web.get("/dashboard/signin")).text)
    refused = await oidc_web.post("/dashboard/signin", data={"csrf": csrf, "api_key": "rk_x"})
    assert refused.status_code == 403


async def test_provider_errors_do_not_sign_in(oidc_web: Client) -> None:
    callback = await start_login(oidc_web)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    denied = await oidc_web.get(
        "/dashboard/auth/callback", params={"state": state, "error": "access_denied"}
    )
    assert denied.status_code == 401
    assert not await signed_in(oidc_web)


async def test_an_unreachable_provider_is_a_502_page(dashboard_client_of: DashboardFactory) -> None:
    async with dashboard_client_of(**provider_settings("http://127.0.0.1:9")) as client:
        csrf = csrf_of((await client.get("/dashboard/signin")).text)
        response = await client.post("/dashboard/auth/login", data={"csrf": csrf})
    assert response.status_code == 502
    assert "could not be reached" in response.text


async def test_a_public_client_signs_in_with_pkce_alone(
    dashboard_client_of: DashboardFactory, provider: Provider
) -> None:
    provider.public_client = True
    async with dashboard_client_of(**provider_settings(provider.issuer, secret=None)) as client:
        assert (await login(client)).status_code == 303
        assert await signed_in(client)
