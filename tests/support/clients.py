"""The in-process HTTP client every API and dashboard test drives the app with."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

# Litestar's client is generic in the app type; the tests never need it narrowed.
Client = AsyncTestClient  # type: ignore[type-arg]
