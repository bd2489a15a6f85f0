"""Errors as dashboard pages: the same status and headers the API gives, as HTML."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Template

from domain.errors import DomainError
from entrypoints.http.errors import render_domain_error

# The one header of the API's error responses a browser page needs too; the others
# (WWW-Authenticate: Bearer) speak of API keys in an Authorization header.
PAGE_HEADERS = ("Retry-After",)


class NotSignedIn(Exception):
    """The page needs a signed-in session; `notice` says why on the sign-in page."""

    def __init__(self, notice: str | None = None, *, clear: bool = False) -> None:
        super().__init__(notice)
        self.notice = notice
        self.clear = clear


class CsrfRejected(Exception):
    pass


def status_and_headers(exc: DomainError) -> tuple[int, dict[str, str]]:
    """The status and headers the API would answer `exc` with, mapped by isinstance."""
    error = render_domain_error(exc)
    return error.status, {k: v for k, v in error.headers.items() if k in PAGE_HEADERS}


def error_page(status: int, message: str, headers: dict[str, str] | None = None) -> Template:
    """A page for an error raised before or instead of a page (no session needed)."""
    return Template(
        template_name="error.html",
        context={"status": status, "message": message, "caller": None, "csrf": ""},
        status_code=status,
        headers=headers,
    )


def csrf_rejected(_: Request[Any, Any, Any], __: CsrfRejected) -> Response[Any]:
    return error_page(403, "The form was stale or did not come from this site. Reload and retry.")


def domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    status, headers = status_and_headers(exc)
    return error_page(status, exc.message, headers)


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    message = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Bad request")
    return error_page(exc.status_code, message)
