"""The route table the outer layer reads (entrypoints/http/routes.py) and the routes
Litestar serves name the same routes: a route added to one only is caught here."""

from __future__ import annotations

from entrypoints.container import Container
from entrypoints.http import routes
from entrypoints.http.app import API_PREFIXES, create_app


def test_the_route_table_names_every_api_route_litestar_serves(container: Container) -> None:
    served = {
        route.path.removeprefix(prefix + "/").split("/", 1)[0]
        for route in create_app(container).routes
        for prefix in API_PREFIXES
        if route.path.startswith(prefix + "/")
    } - set(routes.VERSIONS)
    assert served == set(routes.ROUTES)


def test_paths_match_their_declared_route() -> None:
    for path, access, version in (
        ("/api/health", routes.PUBLIC, None),
        ("/api/v2/docs", routes.PUBLIC, 2),
        ("/api/v1/auth/register", routes.SIGN_UP, 1),
        ("/api/keys/7/usage", routes.KEYED, None),
        ("/api/v2/resources", routes.KEYED, 2),
        ("/api/v1/webhooks/1/deliveries", routes.KEYED, 1),
        ("/api", routes.UNKNOWN, None),
        ("/api/", routes.UNKNOWN, None),
        ("/api/v1", routes.UNKNOWN, 1),
        ("/api/v3/keys", routes.UNKNOWN, None),
        ("/api/v1/v2/keys", routes.UNKNOWN, 1),
    ):
        assert routes.match(path) == routes.ApiRoute(access, version), path
    for outside in ("/", "/apix", "/dashboard/keys", "/docs"):
        assert routes.match(outside) is None, outside
    for spelled in ("/API/keys", "/Api", "/aPi/v1/keys"):
        assert routes.match(spelled) == routes.ApiRoute(routes.UNKNOWN, None), spelled


def test_a_path_has_one_canonical_spelling() -> None:
    for path, canonical in (
        ("/api/keys", "/api/keys"),
        ("/", "/"),
        ("//", "/"),
        ("//api//keys//", "/api/keys"),
        ("/./api/./keys/.", "/api/keys"),
        ("/api/x/../keys", "/api/keys"),
        ("/../../api", "/api"),
        ("/api/.well-known/..x", "/api/.well-known/..x"),
        ("/dashboard/static/../../etc/passwd", "/etc/passwd"),
    ):
        assert routes.canonical(path) == canonical, path
