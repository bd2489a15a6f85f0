"""The keys pages: list, create (the raw key shown once), and revoke or rotate after a
confirmation step."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from application.key_changes import RotateKey
from application.keys import GetKey, IssueKey, ListKeys, RevokeKey
from domain.audit import Via
from domain.errors import InvalidInput, PermissionDenied
from domain.key_lifecycle import validate_grace
from domain.key_requests import key_request
from domain.keys import ApiKey, IssuedKey, Permission
from domain.pagination import page_request
from entrypoints.http.controllers.common import checked_id, origin_of
from entrypoints.web.errors import status_and_headers
from entrypoints.web.forms import read_form
from entrypoints.web.responses import KEYS, redirect, render
from entrypoints.web.session import Session
from entrypoints.web.visit import Dashboard, Visit

KEYS_PER_PAGE = 25
# The rotate form's grace periods: (seconds, label).
GRACE_CHOICES = [
    (0, "none: the old key stops now"),
    (3600, "1 hour"),
    (86400, "24 hours"),
    (604800, "7 days"),
]


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
        session_key=caller.id if visit.session.api_key else None, now=datetime.now(UTC),
    )  # fmt: skip


def _new_key_form(
    dashboard: Dashboard,
    request: Request[Any, Any, Any],
    visit: Visit,
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
    visit: Visit,
    issued: IssuedKey,
    action: str,
    session: Session | None = None,
) -> Template:
    template = render(
        dashboard, request, visit, "key_issued.html", 201, session=session, issued=issued,
        action=action,
    )  # fmt: skip
    # The raw key is in this page only: no cache may keep it.
    template.headers["Cache-Control"] = "no-store"
    return template


def _message(exc: InvalidInput | PermissionDenied) -> str:
    if isinstance(exc, InvalidInput) and exc.details:
        return exc.message + ": " + "; ".join(d.message for d in exc.details)
    return exc.message


@post("/keys", include_in_schema=False)
async def create_key(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    issue_key: NamedDependency[IssueKey],
) -> Template:
    caller = visit.require()
    form = await read_form(request)
    visit.check_csrf(form)
    values: dict[str, Any] = {
        "name": form.text("name"),
        "permissions": form.texts("permissions"),
        "user_id": form.text("user_id").strip(),
        "rate_limit": form.text("rate_limit").strip(),
    }
    try:
        wanted = key_request(
            values["name"], values["permissions"], values["user_id"], values["rate_limit"]
        )
        issued = await issue_key(
            wanted, caller, new_user_id=caller.user_id, origin=origin_of(request, Via.DASHBOARD)
        )
    except (InvalidInput, PermissionDenied) as exc:
        status, _ = status_and_headers(exc)
        return _new_key_form(dashboard, request, visit, caller, status, _message(exc), values)
    return _issued(dashboard, request, visit, issued, "created")


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
    return render(
        dashboard, request, visit, "confirm.html", key=key, action=action, own=own,
        graces=GRACE_CHOICES,
    )  # fmt: skip


@post("/keys/{key_id:int}/revoke", include_in_schema=False)
async def revoke(
    request: Request[Any, Any, Any],
    dashboard: NamedDependency[Dashboard],
    visit: NamedDependency[Visit],
    key_id: FromPath[int],
    revoke_key: NamedDependency[RevokeKey],
) -> Redirect:
    caller = visit.require()
    visit.check_csrf(await read_form(request))
    await revoke_key(
        caller, checked_id(key_id, "API key"), origin=origin_of(request, Via.DASHBOARD)
    )
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
    form = await read_form(request)
    visit.check_csrf(form)
    grace = validate_grace(form.text("grace") or "0")
    issued = await rotate_key(
        caller, checked_id(key_id, "API key"), grace, origin=origin_of(request, Via.DASHBOARD)
    )
    session = None
    if visit.session.api_key is not None and caller.id == key_id:
        # The session's own key was just rotated: carry the session over to its successor,
        # which outlives any grace period of the old one.
        session = replace(visit.session, api_key=issued.raw_key)
    return _issued(dashboard, request, visit, issued, "rotated", session)


HANDLERS = [keys_page, new_key_page, create_key, confirm, revoke, rotate]
