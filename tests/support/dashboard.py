"""Driving the dashboard from tests: CSRF fields, signing in with a key."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from tests.support.clients import Client

SESSION_SECRET = "s" * 40
CSRF = re.compile(r'name="csrf" value="([^"]+)"')

# Builds a dashboard client for settings changed by keyword (the dashboard_client_of fixture).
DashboardFactory = Callable[..., AbstractAsyncContextManager[Any]]


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


async def csrf_for(client: Client, path: str = "/dashboard/keys") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def sign_in(client: Client, raw_key: str) -> None:
    page = await client.get("/dashboard/signin")
    response = await client.post(
        "/dashboard/signin",
        data={"csrf": csrf_of(page.text), "api_key": raw_key},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dashboard/keys"
