"""Which API routes need a key, take one if offered, or are public: one declared table.

The outer layer (entrypoints/http/edge/) reads it to decide, before Litestar routes a
request, whether to authenticate it and what to count it against. A route is named by
its first segment after /api, /api/v1 or /api/v2 (`/api/v2/keys/7/usage` is "keys").
tests/http/test_routes.py checks that the table names every route Litestar serves.

Both read one path: `canonical` spells it the one way (the outer layer hands Litestar
that spelling), so `//api/keys` or `/api/./keys/` cannot be one route to Litestar and
none to the outer layer. Litestar's routes are case-sensitive, so `/API/keys` is a 404
to it; here it is still under /api (logged, and counted when a key comes with it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Key(Enum):
    IGNORED = "ignored"  # never read: public routes
    OPTIONAL = "optional"  # read when sent, and then it must be valid (a 401 if not)
    REQUIRED = "required"  # a 401 without one
    # Unknown paths: read when sent, so a valid key is counted; a bad one is not a
    # 401, because the answer is a 404 whatever the key.
    BEST_EFFORT = "best effort"


@dataclass(frozen=True, slots=True)
class Access:
    key: Key
    # Counted against the key's hourly quota when a key is used.
    rate_limited: bool = True
    # Methods that, sent without a key, count against the client IP's hourly limit.
    per_ip: frozenset[str] = frozenset()


PUBLIC = Access(Key.IGNORED, rate_limited=False)
KEYED = Access(Key.REQUIRED)
# Sign-up: without a key a new user is made, so the client's IP is what is limited.
SIGN_UP = Access(Key.OPTIONAL, per_ip=frozenset({"POST"}))
UNKNOWN = Access(Key.BEST_EFFORT)

ROUTES: dict[str, Access] = {
    "health": PUBLIC,  # /api/health (liveness) and /api/health/ready (readiness)
    "docs": PUBLIC,  # the OpenAPI document, /api/docs
    "auth": SIGN_UP,
    "keys": KEYED,
    "resources": KEYED,
    "webhooks": KEYED,
    "audit": KEYED,
}
VERSIONS = {"v1": 1, "v2": 2}
# The Prometheus scrape, answered by the outer layer itself (edge/metrics.py): outside
# /api, so it is neither request-logged nor rate limited.
METRICS = "/metrics"


@dataclass(frozen=True, slots=True)
class ApiRoute:
    access: Access
    version: int | None  # from the path; None when the path states none


def _every_route() -> dict[tuple[str, int | None], ApiRoute]:
    names = [*ROUTES, ""]  # "" stands for any segment the table does not name
    return {
        (name, version): ApiRoute(ROUTES.get(name, UNKNOWN), version)
        for name in names
        for version in (None, *VERSIONS.values())
    }


# Built once: matching a request allocates nothing.
_ROUTES = _every_route()


def allow(methods: Iterable[str]) -> str:
    """An Allow header's value: HEAD is served wherever GET is (edge/methods.py)."""
    served = set(methods)
    if "GET" in served:
        served.add("HEAD")
    return ", ".join(sorted(served))


def canonical(path: str) -> str:
    """`path` without empty, "." and ".." segments or a trailing slash (RFC 3986's dot
    segment removal, and Litestar's own reading of repeated and trailing slashes)."""
    if "//" not in path and "/." not in path and (len(path) < 2 or path[-1] != "/"):
        return path  # the common case, decided without splitting
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    return "/" + "/".join(segments)


def match(path: str) -> ApiRoute | None:
    """The declared route of a canonical path; None outside /api."""
    if (len(path) > 4 and path[4] != "/") or path[:4].lower() != "/api":
        return None
    if not path.startswith("/api"):
        return _ROUTES["", None]  # /API/...: no route of Litestar's, so a 404
    segments = path[5:].split("/", 2)
    version = VERSIONS.get(segments[0])
    name = segments[0] if version is None else (segments[1] if len(segments) > 1 else "")
    return _ROUTES.get((name, version)) or _ROUTES["", version]
