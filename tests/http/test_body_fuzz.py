"""Every endpoint that reads a body, fed hypothesis-made bytes under made-up content types.

Over real HTTP (uvicorn in a thread), signed in and with an admin key, so that bodies
reach the parsers: no answer may be a 5xx; every API error is a JSON body with an
`error`, every dashboard error an HTML page. The bodies are near misses more often than
noise: JSON and forms with invalid UTF-8 spliced in, encoded surrogates, other
encodings, files where text fields belong, charsets nobody knows.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.dashboard import CSRF, SESSION_SECRET
from tests.support.keys import issue
from tests.support.threaded import served

EXAMPLES_PER_ENDPOINT = 60
CSRF_SLOT = b"@CSRF@"  # replaced by the session's real token before sending
BAD_BYTES = [b"\xff", b"\xfe\xff", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80", b"\xf4\x90\x80\x80"]
API_FIELDS = ["name", "permissions", "userId", "rateLimit", "description", "category"]
API_FIELDS += ["metadata", "url", "eventTypes", "gracePeriodSeconds", "expiresAt", "credits"]
API_FIELDS += ["rateLimitPerMinute", "rateLimitPerDay"]
FORM_FIELDS = [b"csrf", b"api_key", b"name", b"permissions", b"user_id", b"rate_limit"]
BOUNDARY = b"fuzzboundary"
CONTENT_TYPES = [
    None,
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/json; charset=utf-16",
    "application/json; charset=bogus",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded; charset=bogus",
    "application/x-www-form-urlencoded; charset=rot13",
    "application/x-www-form-urlencoded; charset=utf-16",
    f"multipart/form-data; boundary={BOUNDARY.decode()}",
    f"multipart/form-data; boundary={BOUNDARY.decode()}; charset=bogus",
    "multipart/form-data; boundary=elsewhere",
    "multipart/form-data",
    "application/octet-stream",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
json_objects = st.dictionaries(
    st.sampled_from(API_FIELDS) | st.text(max_size=4), json_values, max_size=5
).map(lambda d: json.dumps(d, ensure_ascii=False))


def spliced(text: str, bad: bytes, at: int) -> bytes:
    raw = text.encode("utf-8", "surrogatepass")
    at %= len(raw) + 1
    return raw[:at] + bad + raw[at:]


def encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "replace")


json_bodies = st.one_of(
    json_objects.map(str.encode),
    st.builds(
        spliced,
        json_objects | json_values.map(json.dumps),
        st.sampled_from(BAD_BYTES),
        st.integers(),
    ),
    st.builds(encoded, json_objects, st.sampled_from(["utf-16", "utf-32", "latin-1", "cp1252"])),
    st.binary(max_size=120),
)

form_values = st.sampled_from([CSRF_SLOT, b"read", b"write", b"admin", b"x"]) | st.binary(
    max_size=12
)
form_names = st.sampled_from(FORM_FIELDS) | st.binary(max_size=6)


def urlencoded(pairs: list[tuple[bytes, bytes]], raw: bool) -> bytes:
    """As a browser writes it, or with the raw bytes left unescaped."""
    if raw:
        return b"&".join(name + b"=" + value for name, value in pairs)
    return b"&".join(quote(name) + b"=" + quote(value) for name, value in pairs)


def quote(value: bytes) -> bytes:
    return "".join(chr(b) if chr(b).isalnum() else f"%{b:02X}" for b in value).encode()


@dataclass(frozen=True)
class Part:
    name: bytes
    value: bytes
    filename: bytes | None
    content_type: bytes | None

    def encode(self) -> bytes:
        disposition = b'Content-Disposition: form-data; name="' + self.name + b'"'
        if self.filename is not None:
            disposition += b'; filename="' + self.filename + b'"'
        lines = [disposition]
        if self.content_type is not None:
            lines.append(b"Content-Type: " + self.content_type)
        return b"\r\n".join(lines) + b"\r\n\r\n" + self.value


def multipart(parts: list[Part], closed: bool) -> bytes:
    body = b"".join(b"--" + BOUNDARY + b"\r\n" + part.encode() + b"\r\n" for part in parts)
    return body + (b"--" + BOUNDARY + b"--\r\n" if closed else b"")


parts = st.builds(
    Part,
    form_names,
    form_values,
    st.none() | st.sampled_from([b"f.txt", b"\xff.bin", b""]),
    st.none() | st.sampled_from([b"text/plain; charset=bogus", b"application/octet-stream"]),
)
FORM_TYPES = [t for t in CONTENT_TYPES if t and t.startswith("application/x-www-form")]
MULTIPART_TYPES = [t for t in CONTENT_TYPES if t and BOUNDARY.decode() in t]
JSON_TYPES = [t for t in CONTENT_TYPES if t and t.startswith(("application/json", "text/"))]
# Any printable ASCII header value (no client sends one with outer whitespace).
content_types = st.sampled_from(CONTENT_TYPES) | st.text(
    st.characters(min_codepoint=32, max_codepoint=126), max_size=40
).map(str.strip)


Request = tuple[bytes, str | None]


def sent_as(bodies: st.SearchStrategy[bytes], types: list[str]) -> st.SearchStrategy[Request]:
    """Bodies under the content types meant for them, or any other now and then."""
    return st.tuples(bodies, st.sampled_from(types) | content_types)


json_requests = st.one_of(
    sent_as(json_bodies, JSON_TYPES), st.tuples(st.binary(max_size=120), content_types)
)
form_requests = st.one_of(
    sent_as(
        st.builds(
            urlencoded, st.lists(st.tuples(form_names, form_values), max_size=5), st.booleans()
        ),
        FORM_TYPES,
    ),
    sent_as(st.builds(multipart, st.lists(parts, max_size=4), st.booleans()), MULTIPART_TYPES),
    st.tuples(st.binary(max_size=120), content_types),
)


@dataclass(frozen=True)
class Fuzzed:
    http: httpx.Client
    admin_key: str
    admin: dict[str, str]
    resource: int
    victims: tuple[int, int, int]  # keys the fuzzer may rotate, change or revoke


@pytest.fixture
def fuzzed(settings: Settings) -> Iterator[Fuzzed]:
    dashboard = replace(settings, session_secret=SESSION_SECRET, registration_per_hour=10**6)

    async def keys() -> list[tuple[str, int]]:
        container = build_container(dashboard)
        admin = await issue(container, "fuzzer", ("read", "write", "admin"), 10**6)
        others = [await issue(container, "fuzzer", ("read",)) for _ in range(3)]
        return [(admin.raw_key, admin.key.id)] + [(k.raw_key, k.key.id) for k in others]

    with served(create_asgi(build_container(dashboard))) as base_url:
        (raw, _), *victims = asyncio.run(keys())
        with httpx.Client(base_url=base_url, timeout=10) as http:
            admin = {"Authorization": f"Bearer {raw}"}
            made = http.post("/api/resources", json={"name": "target"}, headers=admin)
            assert made.status_code == 201, made.text
            v1, v2, v3 = (key_id for _, key_id in victims)
            yield Fuzzed(http, raw, admin, made.json()["id"], (v1, v2, v3))


def send(
    http: httpx.Client,
    method: str,
    path: str,
    body: bytes,
    ctype: str | None,
    headers: dict[str, str],
) -> httpx.Response:
    sent = dict(headers)
    if ctype is not None:
        sent["Content-Type"] = ctype
    return http.request(method, path, content=body, headers=sent)


Check = Callable[[bytes, str | None], None]


def fuzz(check: Check, requests: st.SearchStrategy[Request], failures: list[str]) -> None:
    """Runs `check` over generated requests; a failure (shrunk) is noted, not raised, so
    that one run reports every endpoint that fails."""

    @settings(
        max_examples=EXAMPLES_PER_ENDPOINT,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(request=requests)
    def run(request: Request) -> None:
        check(*request)

    try:
        run()
    except (AssertionError, BaseExceptionGroup) as exc:
        failures.append(str(exc))


def assert_json_error(response: httpx.Response, where: str) -> None:
    assert response.status_code < 500, (where, response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/json"), response.headers
        assert isinstance(response.json()["error"], str)


def test_api_bodies_are_never_a_server_error(fuzzed: Fuzzed) -> None:
    resource, (victim, changed, _) = fuzzed.resource, fuzzed.victims
    endpoints = [
        ("POST", "/api/auth/register", {}),  # self-service: no key
        ("POST", "/api/v1/auth/register", fuzzed.admin),
        ("POST", "/api/resources", fuzzed.admin),
        ("PUT", f"/api/v2/resources/{resource}", fuzzed.admin),
        ("PATCH", f"/api/resources/{resource}", fuzzed.admin),
        ("POST", "/api/webhooks", fuzzed.admin),
        ("POST", f"/api/keys/{victim}/rotate", fuzzed.admin),
        ("PATCH", f"/api/keys/{changed}", fuzzed.admin),
    ]
    failures: list[str] = []
    for method, path, headers in endpoints:

        def check(body: bytes, ctype: str | None) -> None:
            response = send(fuzzed.http, method, path, body, ctype, headers)  # noqa: B023
            assert_json_error(response, f"{method} {path}")  # noqa: B023

        fuzz(check, json_requests, failures)
    assert not failures, "\n\n".join(failures)


def sign_in(fuzzed: Fuzzed, raw_key: str) -> str:
    """A fresh session for the key; returns its CSRF token."""
    fuzzed.http.cookies.clear()
    page = fuzzed.http.get("/dashboard/signin")
    token = CSRF.search(page.text)
    assert token, page.text[:300]
    done = fuzzed.http.post("/dashboard/signin", data={"csrf": token.group(1), "api_key": raw_key})
    assert done.status_code in (200, 303), done.text[:300]
    keys_page = fuzzed.http.get("/dashboard/keys")
    signed = CSRF.search(keys_page.text)
    assert signed, keys_page.text[:300]
    return signed.group(1)


def assert_html_page(response: httpx.Response, where: str) -> None:
    assert response.status_code < 500, (where, response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("text/html"), response.headers


def test_dashboard_forms_are_never_a_server_error(fuzzed: Fuzzed) -> None:
    _, revoked, rotated = fuzzed.victims
    forms = [
        "/dashboard/signin",
        "/dashboard/auth/login",
        "/dashboard/keys",
        f"/dashboard/keys/{revoked}/revoke",
        f"/dashboard/keys/{rotated}/rotate",
        "/dashboard/signout",  # last: it may end the session the others use
    ]
    failures: list[str] = []
    for path in forms:
        # Signed in afresh for each form, so that its body gets past the session check.
        token = sign_in(fuzzed, fuzzed.admin_key).encode()

        def check(body: bytes, ctype: str | None) -> None:
            sent = body.replace(CSRF_SLOT, token)  # noqa: B023
            assert_html_page(send(fuzzed.http, "POST", path, sent, ctype, {}), path)  # noqa: B023

        fuzz(check, form_requests, failures)
    assert not failures, "\n\n".join(failures)
