"""Who is visiting: the session a request carries, and the caller it acts as."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from application.keys import Authenticate
from application.ports.identity import IdentityProvider
from application.sessions import CheckSession
from domain.dashboard import session_principal
from domain.errors import Unauthenticated
from domain.keys import ApiKey
from entrypoints.web.errors import CsrfRejected, NotSignedIn
from entrypoints.web.forms import Form
from entrypoints.web.session import COOKIE_NAME, Session, SessionCodec


@dataclass(frozen=True, slots=True)
class Dashboard:
    """What every page shares: the session codec, the provider (if any) and a few limits."""

    codec: SessionCodec
    oidc: IdentityProvider | None
    https: bool
    signin_per_hour: int

    def secure(self, request: Request[Any, Any, Any]) -> bool:
        return self.https or request.url.scheme == "https"


@dataclass(frozen=True, slots=True)
class Visit:
    """This request's session (a visitor's when nobody is signed in) and who acts."""

    session: Session
    caller: ApiKey | None
    # A session created by this request must reach the browser.
    new: bool = False

    def require(self) -> ApiKey:
        if self.caller is None:
            raise NotSignedIn()
        return self.caller

    def check_csrf(self, form: Form) -> None:
        if not self.session.csrf_matches(form.text("csrf")):
            raise CsrfRejected()


async def provide_visit(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    authenticate: NamedDependency[Authenticate],
    check_session: NamedDependency[CheckSession],
) -> Visit:
    codec = dashboard.codec
    session = codec.open(request.cookies.get(COOKIE_NAME))
    if session is None:
        return Visit(codec.visitor(), None, new=True)
    if not session.signed_in or session.user_id is None:
        return Visit(session, None)
    if not await check_session(session.session_id):
        # Signed out (here or on another instance), or a cookie from before sessions
        # were kept on the server: either way, no longer anyone's session.
        raise NotSignedIn("ended", clear=True)
    if session.api_key is None:
        return Visit(session, session_principal(session.user_id, datetime.now(UTC)))
    try:
        # Every request re-checks the key (from the NOTIFY-invalidated cache), so a
        # revoked key ends its sessions at once.
        key = await authenticate(session.api_key)
    except Unauthenticated:
        raise NotSignedIn("ended", clear=True) from None
    return Visit(session, key)
