"""The two answers a dashboard page gives: a rendered template or a redirect (303)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from domain.keys import is_admin
from entrypoints.web.session import Session, expired_cookie
from entrypoints.web.visit import Dashboard, Visit

SIGNIN = "/dashboard/signin"
KEYS = "/dashboard/keys"
NOTICES = {
    "revoked": "The key was revoked. It no longer works anywhere.",
    "signed-out": "You are signed out.",
    "ended": "Your session has ended: sign in again.",
}


def render(
    dashboard: Dashboard,
    request: Request[Any, Any, Any],
    visit: Visit,
    name: str,
    code: int = 200,
    *,
    session: Session | None = None,
    **context: Any,
) -> Template:
    """A page; `session`, when given, replaces the browser's session cookie."""
    current = session or visit.session
    cookies: list[Cookie] = []
    if session is not None or visit.new:
        cookies.append(dashboard.codec.cookie(current, secure=dashboard.secure(request)))
    caller = visit.caller if session is None or session.signed_in else None
    return Template(
        template_name=name,
        context={
            "csrf": current.csrf,
            "caller": caller,
            "admin": caller is not None and is_admin(caller),
            "who": current.display_name or current.user_id,
            "notice": NOTICES.get(request.query_params.get("notice") or ""),
            **context,
        },
        status_code=code,
        cookies=cookies,
    )


def redirect(
    dashboard: Dashboard,
    request: Request[Any, Any, Any],
    path: str,
    session: Session | None = None,
    *,
    clear: bool = False,
) -> Redirect:
    """A 303 to `path`, setting `session` as the cookie, or clearing the cookie."""
    secure = dashboard.secure(request)
    cookies = []
    if session is not None:
        cookies.append(dashboard.codec.cookie(session, secure=secure))
    elif clear:
        cookies.append(expired_cookie(secure=secure))
    return Redirect(path=path, status_code=303, cookies=cookies)
