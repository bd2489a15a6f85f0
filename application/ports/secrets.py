"""Secrets every instance shares."""

from __future__ import annotations

from typing import Protocol


class SecretStore(Protocol):
    async def cursor_secret(self) -> str:
        """The key that signs list cursors, the same for every instance."""
        ...
