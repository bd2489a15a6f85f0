"""One walk through the dashboard in a real browser (Debian's chromium, headless)
against a real `keygate serve`: sign in with a key, create a key, see it once,
revoke it, and watch the API refuse it.

With KEYGATE_SCREENSHOTS=<dir> it also saves the screenshots the README links to.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.support.servers import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KEYGATE = str(Path(sys.executable).with_name("keygate"))

pytestmark = pytest.mark.slow


@pytest.fixture
def server_env(db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SESSION_SECRET"}
    return env | {"DATABASE_URL": db, "LOG_FLUSH_INTERVAL": "0.05", "LOG_LEVEL": "WARNING"}


@pytest.fixture
def live_server(server_env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    # Two workers and no SESSION_SECRET: the session must still be readable by both.
    process = subprocess.Popen(
        [KEYGATE, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Roomy: on a loaded machine two workers' start alone took over 30 s.
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "keygate serve did not come up"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def issue_with_cli(env: dict[str, str], user: str, permissions: str) -> str:
    out = subprocess.run(
        [KEYGATE, "keys", "issue", "--user", user, "--name", "laptop", "--permissions",
         permissions, "--json"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return str(json.loads(out.stdout)["key"])


async def api_status(base: str, raw_key: str, path: str = "/api/keys") -> int:
    async with httpx.AsyncClient() as http:
        response = await http.get(base + path, headers={"Authorization": f"Bearer {raw_key}"})
    return response.status_code


@pytest.fixture
def screenshots() -> Path | None:
    folder = os.environ.get("KEYGATE_SCREENSHOTS")
    if not folder:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder)


async def screenshot(page: Page, folder: Path | None, name: str) -> None:
    if folder is not None:
        await page.screenshot(path=str(folder / name), full_page=True)


async def test_sign_in_create_see_once_revoke_and_the_api_refuses(
    live_server: str, server_env: dict[str, str], screenshots: Path | None
) -> None:
    session_key = issue_with_cli(server_env, "browser-user", "read,write")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1200, "height": 800})
        await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
        page = await context.new_page()
        try:
            await page.goto(f"{live_server}/dashboard")
            await page.get_by_label("API key").fill(session_key)
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.get_by_role("heading", name="Your keys")).to_be_visible()

            await page.get_by_role("link", name="Create a key").click()
            await page.get_by_label("Name").fill("browser key")
            await page.get_by_label("write").check()
            await page.get_by_role("button", name="Create key").click()
            await expect(
                page.get_by_role("heading", name="Key created: browser key")
            ).to_be_visible()
            raw = await page.get_by_label("Your new key").input_value()
            assert raw.startswith("rk_") and len(raw) == 67
            await page.get_by_role("button", name="Copy").click()
            await expect(page.locator(".copied")).not_to_be_empty()
            assert await page.evaluate("navigator.clipboard.readText()") == raw

            for _ in range(5):
                assert await api_status(live_server, raw) == 200
            assert await api_status(live_server, raw, "/api/keys/999999/usage") == 404

            await page.get_by_role("link", name="Keys", exact=True).click()
            assert raw not in await page.content()  # shown once, never again
            row = page.locator("tr", has_text="browser key")
            await expect(row).to_contain_text("read, write")
            await expect(row).to_contain_text("active")
            await screenshot(page, screenshots, "keys.png")

            await row.get_by_role("link", name="Usage of browser key").click()
            chart = page.locator("svg.usage-chart")
            await expect(chart).to_be_visible()
            deadline = time.monotonic() + 5
            while await page.get_by_text("6 requests in the last 24 hours").count() == 0:
                assert time.monotonic() < deadline, "usage never reached 6 requests"
                await asyncio.sleep(0.2)
                await page.reload()
            await screenshot(page, screenshots, "usage.png")

            await page.get_by_role("link", name="Keys", exact=True).click()
            await page.get_by_role("link", name="Revoke browser key").click()
            await expect(page.get_by_role("heading", name="Revoke “browser key”?")).to_be_visible()
            await page.get_by_role("button", name="Yes, revoke it").click()
            await expect(page.get_by_role("status")).to_contain_text("was revoked")
            await expect(page.locator("tr", has_text="browser key")).to_contain_text("revoked")
        finally:
            await browser.close()

    deadline = time.monotonic() + 3
    while await api_status(live_server, raw) != 401:
        assert time.monotonic() < deadline, "the API still accepts the revoked key"
        await asyncio.sleep(0.05)
    assert await api_status(live_server, session_key) == 200


PHONE = {"width": 390, "height": 844}


async def assert_fits(page: Page) -> None:
    """Nothing on the page is wider than the screen: no sideways scrolling."""
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} is {overflow}px wider than a {PHONE['width']}px screen"


async def test_every_page_fits_a_phone(live_server: str, server_env: dict[str, str]) -> None:
    session_key = issue_with_cli(server_env, "phone-user-with-a-long-name", "read,write")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport=PHONE, is_mobile=True)
        page = await context.new_page()
        try:
            for path in ("/", "/dashboard/signin"):
                await page.goto(live_server + path)
                await assert_fits(page)
            await expect(page.get_by_role("heading", name="No key yet?")).to_be_visible()
            await page.get_by_label("API key").fill(session_key)
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.get_by_role("heading", name="Your keys")).to_be_visible()
            await assert_fits(page)

            await page.get_by_role("link", name="Create a key").click()
            await assert_fits(page)
            await page.get_by_label("Name").fill("a key for the phone")
            await page.get_by_role("button", name="Create key").click()
            await expect(page.get_by_label("Your new key")).to_be_visible()
            await assert_fits(page)

            await page.get_by_role("link", name="Keys", exact=True).click()
            await assert_fits(page)
            row = page.locator("tr", has_text="a key for the phone")
            await row.get_by_role("link", name="Usage of a key for the phone").click()
            await expect(page.locator("svg.usage-chart")).to_be_visible()
            await assert_fits(page)

            await page.get_by_role("link", name="Keys", exact=True).click()
            await page.get_by_role("link", name="Revoke a key for the phone").click()
            await assert_fits(page)
            await page.get_by_role("link", name="Recent requests").click()
            await assert_fits(page)
        finally:
            await browser.close()
