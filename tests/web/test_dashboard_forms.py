"""Hostile form bodies on every dashboard form: a 4xx HTML page each, never a 500.

Bytes a browser would not send (invalid UTF-8, a file where text belongs, a charset
nobody can decode) are the client's mistake: 400, said on a page, and no traceback.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrypoints.container import Container
from tests.support.clients import Client
from tests.support.dashboard import csrf_for, sign_in
from tests.support.keys import issue

BOUNDARY = "keygateboundary"


def multipart(*parts: bytes, charset: str | None = None) -> tuple[dict[str, str], bytes]:
    """A multipart/form-data body of raw parts (each its headers, a blank line, its bytes)."""
    body = b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    body += b"--" + BOUNDARY.encode() + b"--\r\n"
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    if charset:
        content_type += f"; charset={charset}"
    return {"Content-Type": content_type}, body


def text_part(name: str, value: bytes, content_type: str | None = None) -> bytes:
    head = f'Content-Disposition: form-data; name="{name}"\r\n'.encode()
    if content_type:
        head += f"Content-Type: {content_type}\r\n".encode()
    return head + b"\r\n" + value


def file_part(name: str, value: bytes) -> bytes:
    return (
        f'Content-Disposition: form-data; name="{name}"; filename="file.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode() + value


def hostile_bodies(csrf: str) -> dict[str, tuple[dict[str, str], bytes]]:
    """Each a body whose CSRF token is right or absent: only its encoding is wrong."""
    token = csrf.encode()
    bodies = {
        "invalid utf-8": multipart(text_part("csrf", b"\xff")),
        "invalid utf-8 beside a good token": multipart(
            text_part("csrf", token), text_part("name", b"caf\xe9")
        ),
        "a file for the token": multipart(file_part("csrf", token)),
        "a file for a field": multipart(text_part("csrf", token), file_part("name", b"x")),
        "urlencoded invalid utf-8": (
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"csrf=" + token + b"&name=%FF",
        ),
        "a NUL in a field": (
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"csrf=" + token + b"&name=a%00b&api_key=a%00b",
        ),
    }
    for charset in ("bogus", "rot13", "utf-16", "base64"):
        bodies[f"part charset={charset}"] = multipart(
            text_part("csrf", token + b"x", f"text/plain; charset={charset}")
        )
        bodies[f"body charset={charset}"] = (
            {"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"},
            b"csrf=" + token,
        )
        bodies[f"multipart charset={charset}"] = multipart(
            text_part("csrf", token), charset=charset
        )
    return bodies


async def assert_all_refused_as_pages(
    client: Client, path: str, csrf: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for case, (headers, body) in hostile_bodies(csrf).items():
        caplog.clear()
        response = await client.post(path, content=body, headers=headers, follow_redirects=False)
        assert response.status_code == 400, (path, case, response.status_code, response.text)
        assert response.headers["content-type"].startswith("text/html"), (path, case)
        assert "Traceback" not in response.text
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], (path, case)


@pytest.mark.parametrize(
    "path", ["/dashboard/signin", "/dashboard/signout", "/dashboard/auth/login"]
)
async def test_forms_of_a_visitor_refuse_bad_bytes_with_a_400_page(
    web: Client, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    csrf = await csrf_for(web, "/dashboard/signin")
    await assert_all_refused_as_pages(web, path, csrf, caplog)


async def test_forms_of_a_signed_in_user_refuse_bad_bytes_with_a_400_page(
    web: Client, open_container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    issued = await issue(open_container, user="forms", permissions=("read", "write"))
    await sign_in(web, issued.raw_key)
    csrf = await csrf_for(web)
    paths = [
        "/dashboard/keys",
        f"/dashboard/keys/{issued.key.id}/revoke",
        f"/dashboard/keys/{issued.key.id}/rotate",
        "/dashboard/signin",
        "/dashboard/auth/login",
        "/dashboard/signout",
    ]
    for path in paths:
        await assert_all_refused_as_pages(web, path, csrf, caplog)
    # Nothing was revoked, rotated or signed out on the way.
    assert (await web.get("/dashboard/keys", follow_redirects=False)).status_code == 200
    assert (await web.get(f"/dashboard/keys/{issued.key.id}")).status_code == 200


FORM_PATHS = [
    "/dashboard/signin",
    "/dashboard/signout",
    "/dashboard/auth/login",
    "/dashboard/keys",
    "/dashboard/keys/1/revoke",
    "/dashboard/keys/1/rotate",
]
CHARSETS = ["utf-8", "UTF8", "latin-1", "utf-16", "utf-32", "bogus", "rot13", "base64", "idna", ""]
random_parts = st.lists(
    st.tuples(
        st.sampled_from(["csrf", "name", "api_key", "permissions", "", 'x"y', "é"]),
        st.binary(max_size=40),
        st.sampled_from([None, "text/plain", *(f"text/plain; charset={c}" for c in CHARSETS)]),
        st.booleans(),
    ),
    max_size=5,
)


def random_multipart(parts: list[tuple[str, bytes, str | None, bool]]) -> bytes:
    chunks = []
    for name, value, content_type, is_file in parts:
        head = f'Content-Disposition: form-data; name="{name}"'
        if is_file:
            head += '; filename="f"'
        if content_type:
            head += f"\r\nContent-Type: {content_type}"
        chunks.append(head.encode("utf-8") + b"\r\n\r\n" + value)
    return multipart(*chunks)[1]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(FORM_PATHS),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            f"multipart/form-data; boundary={BOUNDARY}",
            "multipart/form-data",
            "text/plain",
            *(f"application/x-www-form-urlencoded; charset={c}" for c in CHARSETS),
            *(f"multipart/form-data; boundary={BOUNDARY}; charset={c}" for c in CHARSETS),
        ]
    ),
    body=st.one_of(st.binary(max_size=300), random_parts.map(random_multipart)),
)
async def test_any_bytes_on_any_form_are_a_4xx_page(
    signed_in_web: Client, path: str, content_type: str, body: bytes
) -> None:
    response = await signed_in_web.post(
        path, content=body, headers={"Content-Type": content_type}, follow_redirects=False
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("text/html")


@pytest.fixture
async def signed_in_web(web: Client, open_container: Container) -> Client:
    issued = await issue(open_container, user="fuzz", permissions=("read", "write"))
    await sign_in(web, issued.raw_key)
    return web


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ({"user": "\x00"}, True),
        ({"page": "0"}, True),
        # Beyond any page there is: an empty page or a 400, as the API answers it.
        ({"page": str(10**30)}, False),
    ],
)
async def test_bad_query_values_are_pages_never_5xx_or_json(
    web: Client, open_container: Container, query: dict[str, str], refused: bool
) -> None:
    admin = await issue(open_container, user="root", permissions=("read", "write", "admin"))
    await sign_in(web, admin.raw_key)
    response = await web.get("/dashboard/keys", params=query)
    assert response.status_code < 500, response.text
    if refused:
        assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("text/html")


async def test_a_page_far_past_the_end_is_an_empty_keys_page(
    web: Client, open_container: Container
) -> None:
    # As on every API list (issue 14 #12): far pages are empty, never an overflow.
    admin = await issue(open_container, user="root", permissions=("read", "write", "admin"))
    await sign_in(web, admin.raw_key)
    response = await web.get("/dashboard/keys", params={"page": str(10**30)})
    assert response.status_code == 200, response.text
    assert "No keys yet." in response.text
