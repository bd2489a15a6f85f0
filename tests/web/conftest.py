from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.clients import Client
from tests.support.dashboard import SESSION_SECRET, DashboardFactory


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
