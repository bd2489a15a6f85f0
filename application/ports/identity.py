"""The identity provider the dashboard signs people in with (OpenID Connect)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class SignInFailed(Exception):
    """Sign-in with the provider did not succeed; the message may be shown to the person."""


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """What the callback of a provider login must match: kept by the browser's session."""

    state: str
    nonce: str
    verifier: str


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the provider says signed in: `subject` is unique only within `issuer`."""

    issuer: str
    subject: str
    display_name: str | None


class IdentityProvider(Protocol):
    @property
    def issuer(self) -> str: ...

    def new_login(self) -> PendingLogin:
        """Fresh, unguessable state, nonce and PKCE verifier for one login."""
        ...

    async def authorization_url(self, login: PendingLogin) -> str:
        """Where to send the browser to sign in; raises SignInFailed."""
        ...

    async def identity(self, code: str, login: PendingLogin) -> Identity:
        """Redeem the provider's code for a verified identity; raises SignInFailed."""
        ...
