"""Errors as dashboard pages: the same status and headers the API gives, as HTML."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Template

from domain.errors import DomainError
from entrypoints.http.context import context_of
from entrypoints.http.errors import ErrorResponse, render_domain_error, render_error
from entrypoints.web.forms import BadForm

# The headers of the API's error responses a browser page needs too; the others
# (WWW-Authenticate: Bearer) speak of API keys in an Authorization header.
PAGE_HEADERS = ("Retry-After", "Allow")
PAGE_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
    413: "The form is too large",
    503: "The service is unavailable for a moment; please retry shortly.",
}


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
    return _for_pages(render_domain_error(exc))


def _for_pages(error: ErrorResponse) -> tuple[int, dict[str, str]]:
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


def bad_form(_: Request[Any, Any, Any], exc: BadForm) -> Response[Any]:
    return error_page(400, exc.message)


def any_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Every other error, as a page with the status and headers the API would give it
    (an unexpected one is logged once, with the request id, by the renderer)."""
    request_id = context_of(request.scope).request_id
    status, headers = _for_pages(render_error(exc, request_id))
    return error_page(status, _message(exc, status, request_id), headers)


def _message(exc: Exception, status: int, request_id: str) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if status >= 500:
        return PAGE_MESSAGES.get(status, f"Internal server error (request {request_id})")
    # Litestar's own words speak of JSON and parameters' Python types; a page says less.
    return PAGE_MESSAGES.get(status, "Bad request")
