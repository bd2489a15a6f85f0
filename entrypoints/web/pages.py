"""Dashboard pages: each reads a form or query, calls one use case, renders a template."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from application.keys import Authenticate, GetKey, IssueKey, ListKeys, RevokeKey, RotateKey
from application.quota import CheckQuota
from application.request_log import KeyUsage, RecentRequests
from domain.dashboard import oidc_user_id, session_principal, signin_subject
from domain.errors import (
    DomainError,
    InvalidInput,
    PermissionDenied,
    QuotaExceeded,
    ServiceUnavailable,
    Unauthenticated,
)
from domain.keys import (
    ApiKey,
    IssuedKey,
    Permission,
    is_admin,
    key_request,
)
from domain.pagination import page_request
from domain.request_log import STATUS_CLASSES
from entrypoints.http.context import context_of
from entrypoints.http.controllers.common import checked_id
from entrypoints.http.errors import STATUS_OF
from entrypoints.web.chart import bar_chart
from entrypoints.web.oidc import OidcClient, OidcFailure, new_login
from entrypoints.web.session import Session, SessionCodec, expired_cookie

SIGNIN = "/dashboard/signin"
KEYS = "/dashboard/keys"
KEYS_PER_PAGE = 25
RECENT_LIMIT = 100
NOTICES = {
    "revoked": "The key was revoked. It no longer works anywhere.",
    "signed-out": "You are signed out.",
    "ended": "Your session has ended: sign in again.",
}


@dataclass(frozen=True, slots=True)
class Dashboard:
    """What every page shares: the session codec, the provider (if any) and a few limits."""

    codec: SessionCodec
    oidc: OidcClient | None
    https: bool
    signin_per_hour: int

    def secure(self, request: Request[Any, Any, Any]) -> bool:
        return self.https or request.url.scheme == "https"


class NotSignedIn(Exception):
    def __init__(self, notice: str | None = None, *, clear: bool = False) -> None:
        super().__init__(notice)
        self.notice = notice
        self.clear = clear


class CsrfRejected(Exception):
    pass


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

    def check_csrf(self, form: Any) -> None:
        if not self.session.csrf_matches(form.get("csrf")):
            raise CsrfRejected()


async def provide_visit(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    authenticate: NamedDependency[Authenticate],
) -> Visit:
    codec = dashboard.codec
    session = codec.open(request.cookies.get("keygate_session"))
    if session is None:
        return Visit(codec.visitor(), None, new=True)
    if not session.signed_in or session.user_id is None:
        return Visit(session, None)
    if session.api_key is None:
        return Visit(session, session_principal(session.user_id, datetime.now(UTC)))
    try:
        # Every request re-checks the key (from the NOTIFY-invalidated cache), so a
        # revoked key ends its sessions at once.
        key = await authenticate(session.api_key)
    except Unauthenticated:
        raise NotSignedIn("ended", clear=True) from None
    return Visit(session, key)


def render(
    dashboard: Dashboard,
    request: Request[Any, Any, Any],
    visit: NamedDependency[Visit],
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
    secure = dashboard.secure(request)
    cookies = []
    if session is not None:
        cookies.append(dashboard.codec.cookie(session, secure=secure))
    elif clear:
        cookies.append(expired_cookie(secure=secure))
    return Redirect(path=path, status_code=303, cookies=cookies)


# -- sign-in, sign-out -----------------------------------------------------------------


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
    visit: NamedDependency[Visit],
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
    dashboard: Dashboard,
    request: Request[Any, Any, Any],
    visit: NamedDependency[Visit],
    exc: DomainError,
) -> Template:
    status = STATUS_OF.get(type(exc), 400)
    template = _signin(dashboard, request, visit, status, exc.message)
    if isinstance(exc, QuotaExceeded | ServiceUnavailable):
        template.headers["Retry-After"] = str(exc.retry_after)
    return template


@post("/signin", include_in_schema=False)
async def signin_with_key(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    check_quota: NamedDependency[CheckQuota],
    authenticate: NamedDependency[Authenticate],
) -> Template | Redirect:
    form = await request.form()
    visit.check_csrf(form)
    if dashboard.oidc is not None:
        raise PermissionDenied("Sign in with the identity provider")
    try:
        await _count_attempt(dashboard, request, check_quota)
        raw_key = str(form.get("api_key") or "").strip()
        key = await authenticate(raw_key)
    except (Unauthenticated, QuotaExceeded, ServiceUnavailable) as exc:
        return _refused(dashboard, request, visit, exc)
    session = dashboard.codec.signed_in(
        key.user_id, api_key=raw_key, display_name=f"{key.user_id} ({key.prefix}…)"
    )
    return redirect(dashboard, request, KEYS, session)


@post("/auth/login", include_in_schema=False)
async def oidc_login(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    check_quota: NamedDependency[CheckQuota],
) -> Template | Redirect:
    form = await request.form()
    visit.check_csrf(form)
    if dashboard.oidc is None:
        raise PermissionDenied("No identity provider is configured")
    try:
        await _count_attempt(dashboard, request, check_quota)
        login = new_login()
        url = await dashboard.oidc.authorization_url(login)
    except (QuotaExceeded, ServiceUnavailable) as exc:
        return _refused(dashboard, request, visit, exc)
    except OidcFailure as exc:
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
    code: FromQuery[str | None] = None,
    oauth_state: Annotated[str | None, QueryParameter(name="state")] = None,
    error: FromQuery[str | None] = None,
) -> Template | Redirect:
    if dashboard.oidc is None:
        raise PermissionDenied("No identity provider is configured")
    login = visit.session.login
    # The pending login is used up whatever happens: a callback cannot be replayed.
    spent = replace(visit.session, login=None)
    if login is None or oauth_state is None or not hmac.compare_digest(login.state, oauth_state):
        return _signin(dashboard, request, visit, 400, "This sign-in link is not valid any more; "
                       "please start again.", session=spent)  # fmt: skip
    if error or not code:
        return _signin(
            dashboard, request, visit, 401, "The provider did not sign you in.", session=spent
        )
    try:
        identity = await dashboard.oidc.identity(code, login)
    except OidcFailure as exc:
        return _signin(dashboard, request, visit, 401, str(exc), session=spent)
    session = dashboard.codec.signed_in(
        oidc_user_id(identity.issuer, identity.subject), display_name=identity.display_name
    )
    return redirect(dashboard, request, KEYS, session)


@post("/signout", include_in_schema=False)
async def signout(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
) -> Redirect:
    visit.check_csrf(await request.form())
    return redirect(dashboard, request, f"{SIGNIN}?notice=signed-out", clear=True)


# -- keys ----------------------------------------------------------------------------


@get("/keys", include_in_schema=False)
async def keys_page(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    list_keys: NamedDependency[ListKeys],
    page: Annotated[int | None, QueryParameter(ge=1)] = None,
    user: FromQuery[str | None] = None,
) -> Template:
    caller = visit.require()
    keys, info = await list_keys(caller, user or None, page_request(page, KEYS_PER_PAGE))
    return render(
        dashboard, request, visit, "keys.html", keys=keys, info=info, user_filter=user or "",
        session_key=caller.id if visit.session.api_key else None,
    )  # fmt: skip


def _new_key_form(
    dashboard: Dashboard,
    request: Request[Any, Any, Any],
    visit: NamedDependency[Visit],
    caller: ApiKey,
    status: int = 200,
    error: str | None = None,
    form: Any = None,
) -> Template:
    grantable = [p.value for p in Permission if caller.allows(p)]
    return render(
        dashboard, request, visit, "key_new.html", status, grantable=grantable, error=error,
        form=form or {"permissions": ["read"]},
    )  # fmt: skip


@get("/keys/new", include_in_schema=False)
async def new_key_page(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
) -> Template:
    return _new_key_form(dashboard, request, visit, visit.require())


def _issued(
    dashboard: Dashboard,
    request: Request[Any, Any, Any],
    visit: NamedDependency[Visit],
    issued: IssuedKey,
    action: FromPath[str],
    session: Session | None = None,
) -> Template:
    template = render(
        dashboard, request, visit, "key_issued.html", 201, session=session, issued=issued,
        action=action,
    )  # fmt: skip
    # The raw key is in this page only: no cache may keep it.
    template.headers["Cache-Control"] = "no-store"
    return template


@post("/keys", include_in_schema=False)
async def create_key(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    issue_key: NamedDependency[IssueKey],
) -> Template:
    caller = visit.require()
    form = await request.form()
    visit.check_csrf(form)
    name = str(form.get("name") or "")
    permissions = [str(p) for p in form.getall("permissions", [])]
    user_id = str(form.get("user_id") or "").strip()
    limit = str(form.get("rate_limit") or "").strip()
    values = {"name": name, "permissions": permissions, "user_id": user_id, "rate_limit": limit}
    try:
        wanted = key_request(name, permissions, user_id, limit)
        issued = await issue_key(wanted, caller, new_user_id=caller.user_id)
    except (InvalidInput, PermissionDenied) as exc:
        status = STATUS_OF[type(exc)]
        message = exc.message
        if isinstance(exc, InvalidInput) and exc.details:
            message += ": " + "; ".join(d.message for d in exc.details)
        return _new_key_form(dashboard, request, visit, caller, status, message, values)
    return _issued(dashboard, request, visit, issued, "created")


@get("/keys/{key_id:int}", include_in_schema=False)
async def key_page(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    key_id: FromPath[int],
    get_key: NamedDependency[GetKey],
    key_usage: NamedDependency[KeyUsage],
) -> Template:
    caller = visit.require()
    key = await get_key(caller, checked_id(key_id, "API key"))
    report = await key_usage(caller, key.id)
    return render(
        dashboard, request, visit, "key.html", key=key, report=report,
        chart=bar_chart(report.hourly),
    )  # fmt: skip


@get(["/keys/{key_id:int}/revoke", "/keys/{key_id:int}/rotate"], include_in_schema=False)
async def confirm(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    key_id: FromPath[int],
    get_key: NamedDependency[GetKey],
) -> Template:
    """The confirmation step: nothing changes until its form is posted."""
    caller = visit.require()
    key = await get_key(caller, checked_id(key_id, "API key"))
    action = request.url.path.rsplit("/", 1)[1]
    own = visit.session.api_key is not None and caller.id == key.id
    return render(dashboard, request, visit, "confirm.html", key=key, action=action, own=own)


@post("/keys/{key_id:int}/revoke", include_in_schema=False)
async def revoke(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    key_id: FromPath[int],
    revoke_key: NamedDependency[RevokeKey],
) -> Redirect:
    caller = visit.require()
    visit.check_csrf(await request.form())
    await revoke_key(caller, checked_id(key_id, "API key"))
    return redirect(dashboard, request, f"{KEYS}?notice=revoked")


@post("/keys/{key_id:int}/rotate", include_in_schema=False)
async def rotate(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    key_id: FromPath[int],
    rotate_key: NamedDependency[RotateKey],
) -> Template:
    caller = visit.require()
    visit.check_csrf(await request.form())
    issued = await rotate_key(caller, checked_id(key_id, "API key"))
    session = None
    if visit.session.api_key is not None and caller.id == key_id:
        # The session's own key was just revoked: carry the session over to its successor.
        session = replace(visit.session, api_key=issued.raw_key)
    return _issued(dashboard, request, visit, issued, "rotated", session)


# -- request log ---------------------------------------------------------------------


@get("/requests", include_in_schema=False)
async def requests_page(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    recent_requests: NamedDependency[RecentRequests],
    status: FromQuery[str | None] = None,
) -> Template:
    caller = visit.require()
    chosen = status if status in STATUS_CLASSES else None
    rows = await recent_requests(caller, int(chosen[0]) if chosen else None, RECENT_LIMIT)
    return render(
        dashboard, request, visit, "requests.html", rows=rows, status=chosen or "",
        classes=STATUS_CLASSES,
    )  # fmt: skip


HANDLERS = [
    home,
    signin_page,
    signin_with_key,
    oidc_login,
    oidc_callback,
    signout,
    keys_page,
    new_key_page,
    create_key,
    key_page,
    confirm,
    revoke,
    rotate,
    requests_page,
]


def error_page(status: int, message: str) -> Template:
    """A page for an error raised before or instead of a page (no session needed)."""
    return Template(
        template_name="error.html",
        context={"status": status, "message": message, "caller": None, "csrf": ""},
        status_code=status,
    )
