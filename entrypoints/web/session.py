"""Dashboard sessions in the browser: an encrypted, expiring cookie, plus its CSRF token.

A signed-in cookie names its server-side session (application/sessions.py), which every
page checks, so signing out ends it everywhere, whoever kept a copy of the cookie.

The cookie is sealed with AES-GCM rather than only signed because an API-key session
carries the raw key (Authenticate needs it to re-check the key on every request, so
a revoked key ends its sessions at once); encryption keeps it out of sight of anything
that can read cookies but not the server's secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar.datastructures import Cookie

from application.ports.identity import PendingLogin
from application.sessions import StartedSession

log = logging.getLogger("keygate.dashboard")

COOKIE_NAME = "keygate_session"
COOKIE_PATH = "/dashboard"
# Binds a sealed value to its purpose, so nothing else sealed with the secret fits here.
ASSOCIATED_DATA = b"keygate-dashboard-session-v1"
NONCE_BYTES = 12
# How long a visitor who has not signed in keeps the CSRF token of the sign-in form.
VISITOR_LIFETIME_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Session:
    csrf: str
    expires_at: float
    user_id: str | None = None
    # The server-side session a signed-in cookie belongs to.
    session_id: str | None = None
    api_key: str | None = None
    display_name: str | None = None
    login: PendingLogin | None = None

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    def csrf_matches(self, token: str | None) -> bool:
        if token is None:
            return False
        return hmac.compare_digest(self.csrf.encode(), token.encode("utf-8", "surrogatepass"))


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


class SessionCodec:
    def __init__(self, secret: str | None, clock: Callable[[], float] = time.time) -> None:
        if secret is None:
            # Only one process can read such sessions, and none after a restart;
            # `keygate serve` sets a shared secret for its workers when none is configured.
            log.warning("SESSION_SECRET is not set; dashboard sessions use a per-process key")
            secret = secrets.token_hex(32)
        self._aead = AESGCM(hashlib.sha256(secret.encode()).digest())
        self._clock = clock

    def now(self) -> float:
        return self._clock()

    def visitor(self) -> Session:
        return Session(csrf=new_csrf(), expires_at=self.now() + VISITOR_LIFETIME_SECONDS)

    def signed_in(
        self,
        user_id: str,
        started: StartedSession,
        *,
        api_key: str | None = None,
        display_name: str | None = None,
    ) -> Session:
        """A fresh session (new CSRF token: nothing from before sign-in carries over)."""
        return Session(
            csrf=new_csrf(),
            expires_at=started.expires_at.timestamp(),
            user_id=user_id,
            session_id=started.id,
            api_key=api_key,
            display_name=display_name,
        )

    def seal(self, session: Session) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        plain = json.dumps(asdict(session), separators=(",", ":")).encode()
        sealed = nonce + self._aead.encrypt(nonce, plain, ASSOCIATED_DATA)
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, value: str | None) -> Session | None:
        """The session in a cookie value; None when absent, tampered with or expired."""
        if not value:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], ASSOCIATED_DATA)
            session = _session_from(json.loads(plain))
        except (ValueError, TypeError, KeyError, InvalidTag, binascii.Error):
            return None
        if session.expires_at <= self.now():
            return None
        return session

    def cookie(self, session: Session, *, secure: bool) -> Cookie:
        return Cookie(
            key=COOKIE_NAME,
            value=self.seal(session),
            path=COOKIE_PATH,
            max_age=max(0, int(session.expires_at - self.now())),
            httponly=True,
            samesite="lax",
            secure=secure,
        )


def expired_cookie(*, secure: bool) -> Cookie:
    return Cookie(
        key=COOKIE_NAME,
        value="",
        path=COOKIE_PATH,
        max_age=0,
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def _session_from(data: dict[str, Any]) -> Session:
    login = data.get("login")
    return Session(
        csrf=str(data["csrf"]),
        expires_at=float(data["expires_at"]),
        user_id=data.get("user_id"),
        session_id=data.get("session_id"),
        api_key=data.get("api_key"),
        display_name=data.get("display_name"),
        login=PendingLogin(**login) if login else None,
    )
