"""Signing in (with an API key, or through an OpenID Connect provider) and signing out."""

from __future__ import annotations

import hmac
from dataclasses import replace
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template

from application.keys import Authenticate
from application.ports.identity import SignInFailed
from application.quota import CheckQuota
from application.sessions import EndSession, StartSession
from domain.dashboard import oidc_user_id, signin_subject
from domain.errors import (
    DomainError,
    PermissionDenied,
    QuotaExceeded,
    ServiceUnavailable,
    Unauthenticated,
)
from entrypoints.http.context import context_of
from entrypoints.web.errors import status_and_headers
from entrypoints.web.forms import read_form
from entrypoints.web.responses import KEYS, SIGNIN, redirect, render
from entrypoints.web.session import Session
from entrypoints.web.visit import Dashboard, Visit


@get("/", include_in_schema=False)
async def home(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
) -> Redirect:
    return redirect(dashboard, request, KEYS if visit.caller else SIGNIN)


@get("/signin", include_in_schema=False)
async def signin_page(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
) -> Template | Redirect:
    if visit.caller is not None:
        return redirect(dashboard, request, KEYS)
    return _signin(dashboard, request, visit)


def _signin(
    dashboard: Dashboard,
    request: Request[Any, Any, Any],
    visit: Visit,
    status: int = 200,
    error: str | None = None,
    session: Session | None = None,
) -> Template:
    provider = dashboard.oidc.issuer if dashboard.oidc else None
    return render(
        dashboard, request, visit, "signin.html", status, session=session,
        provider=provider, error=error,
    )  # fmt: skip


async def _count_attempt(
    dashboard: Dashboard, request: Request[Any, Any, Any], check_quota: CheckQuota
) -> None:
    await check_quota(
        signin_subject(context_of(request.scope).client_ip), dashboard.signin_per_hour
    )


def _refused(
    dashboard: Dashboard, request: Request[Any, Any, Any], visit: Visit, exc: DomainError
) -> Template:
    """The sign-in page again, saying why, with the status (and Retry-After) of `exc`."""
    status, headers = status_and_headers(exc)
    template = _signin(dashboard, request, visit, status, exc.message)
    template.headers.update(headers)
    return template


@post("/signin", include_in_schema=False)
async def signin_with_key(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    check_quota: NamedDependency[CheckQuota],
    authenticate: NamedDependency[Authenticate],
    start_session: NamedDependency[StartSession],
) -> Template | Redirect:
    form = await read_form(request)
    visit.check_csrf(form)
    if dashboard.oidc is not None:
        raise PermissionDenied("Sign in with the identity provider")
    try:
        await _count_attempt(dashboard, request, check_quota)
        raw_key = form.text("api_key").strip()
        key = await authenticate(raw_key)
        started = await start_session(key.user_id)
    except (Unauthenticated, QuotaExceeded, ServiceUnavailable) as exc:
        return _refused(dashboard, request, visit, exc)
    session = dashboard.codec.signed_in(
        key.user_id, started, api_key=raw_key, display_name=f"{key.user_id} ({key.prefix}…)"
    )
    return redirect(dashboard, request, KEYS, session)


@post("/auth/login", include_in_schema=False)
async def oidc_login(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    check_quota: NamedDependency[CheckQuota],
) -> Template | Redirect:
    form = await read_form(request)
    visit.check_csrf(form)
    if dashboard.oidc is None:
        raise PermissionDenied("No identity provider is configured")
    try:
        await _count_attempt(dashboard, request, check_quota)
        login = dashboard.oidc.new_login()
        url = await dashboard.oidc.authorization_url(login)
    except (QuotaExceeded, ServiceUnavailable) as exc:
        return _refused(dashboard, request, visit, exc)
    except SignInFailed as exc:
        return _signin(dashboard, request, visit, 502, str(exc))
    session = dashboard.codec.visitor() if visit.caller else visit.session
    return Redirect(
        path=url,
        status_code=303,
        cookies=[
            dashboard.codec.cookie(replace(session, login=login), secure=dashboard.secure(request))
        ],
    )


@get("/auth/callback", include_in_schema=False)
async def oidc_callback(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    start_session: NamedDependency[StartSession],
    code: FromQuery[str | None] = None,
    oauth_state: Annotated[str | None, QueryParameter(name="state")] = None,
    error: FromQuery[str | None] = None,
) -> Template | Redirect:
    if dashboard.oidc is None:
        raise PermissionDenied("No identity provider is configured")
    login = visit.session.login
    # The pending login is used up whatever happens: a callback cannot be replayed.
    spent = replace(visit.session, login=None)
    if login is None or oauth_state is None or not _same(login.state, oauth_state):
        return _signin(dashboard, request, visit, 400, "This sign-in link is not valid any more; "
                       "please start again.", session=spent)  # fmt: skip
    if error or not code:
        return _signin(
            dashboard, request, visit, 401, "The provider did not sign you in.", session=spent
        )
    try:
        identity = await dashboard.oidc.identity(code, login)
    except SignInFailed as exc:
        return _signin(dashboard, request, visit, 401, str(exc), session=spent)
    user_id = oidc_user_id(identity.issuer, identity.subject)
    started = await start_session(user_id)
    session = dashboard.codec.signed_in(user_id, started, display_name=identity.display_name)
    return redirect(dashboard, request, KEYS, session)


def _same(expected: str, given: str) -> bool:
    # Compared as bytes: compare_digest refuses str with non-ASCII characters.
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


@post("/signout", include_in_schema=False)
async def signout(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    end_session: NamedDependency[EndSession],
) -> Redirect:
    visit.check_csrf(await read_form(request))
    # Ended on the server, not only forgotten by this browser: a kept copy of the
    # cookie is then worth nothing, on any instance.
    await end_session(visit.session.session_id)
    return redirect(dashboard, request, f"{SIGNIN}?notice=signed-out", clear=True)


HANDLERS = [home, signin_page, signin_with_key, oidc_login, oidc_callback, signout]
