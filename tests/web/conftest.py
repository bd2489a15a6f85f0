from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings

SESSION_SECRET = "s" * 40
CSRF = re.compile(r'name="csrf" value="([^"]+)"')

Client = AsyncTestClient  # type: ignore[type-arg]
DashboardFactory = Callable[..., AbstractAsyncContextManager[Any]]


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


@pytest.fixture
def dashboard_settings(settings: Settings) -> Settings:
    return replace(settings, session_secret=SESSION_SECRET)


@pytest.fixture
def dashboard_client_of(dashboard_settings: Settings) -> DashboardFactory:
    """A client for an app built with the dashboard settings, changed by keyword."""

    @asynccontextmanager
    async def make(**changes: Any) -> AsyncIterator[Client]:
        container = build_container(replace(dashboard_settings, **changes))
        app = create_asgi(container)
        async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:  # type: ignore[arg-type]
            yield client

    return make


@pytest.fixture
async def web(dashboard_client_of: DashboardFactory) -> AsyncIterator[Client]:
    async with dashboard_client_of() as client:
        yield client


async def sign_in(client: Client, raw_key: str) -> None:
    page = await client.get("/dashboard/signin")
    response = await client.post(
        "/dashboard/signin",
        data={"csrf": csrf_of(page.text), "api_key": raw_key},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dashboard/keys"


async def csrf_for(client: Client, path: str = "/dashboard/keys") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)
