from __future__ import annotations

import re

from tests.support.clients import Client


async def test_api_docs_is_the_openapi_document_without_a_key(client: Client) -> None:
    response = await client.get("/api/docs")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "rk_ API key",
    }
    assert doc["security"] == [{"bearer": []}]
    paths = doc["paths"]
    assert set(paths["/api/v1/resources"]) == {"get", "post"}
    assert set(paths["/api/v1/resources/{resource_id}"]) == {"get", "put", "patch", "delete"}
    listing = paths["/api/v1/resources"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert set(params) == {
        "page",
        "limit",
        "category",
        "search",
        "sort",
        "order",
        "cursor",
        "Prefer",
    }
    assert params["sort"]["schema"]["enum"] == ["name", "created_at", "category"]
    post = paths["/api/v1/resources"]["post"]
    assert {"201", "400", "401", "403", "422", "429"} <= set(post["responses"])
    assert "Idempotency-Key" in {p["name"] for p in post["parameters"]}
    assert "requestBody" in post
    for method in ("put", "patch", "delete"):
        op = paths["/api/v1/resources/{resource_id}"][method]
        assert "412" in op["responses"]
        assert "If-Match" in {p["name"] for p in op["parameters"]}
    assert "x-ratelimit-limit" not in response.headers


async def test_docs_page_renders_from_local_assets_only(client: Client) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/api/docs" in page.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources
    for source in sources:
        assert source.startswith("/"), source  # nothing from another host
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100 or source == "/api/docs"


async def test_the_docs_page_never_calls_the_online_validator(client: Client) -> None:
    page = (await client.get("/docs")).text
    assert "validatorUrl: null" in page


async def test_the_document_declares_the_pipeline_headers_and_the_aliases(client: Client) -> None:
    doc = (await client.get("/api/docs")).json()
    assert "without the version segment" in doc["info"]["description"]
    assert "/api/v2/" in doc["info"]["description"]
    assert "Accept-Version" in doc["info"]["description"]
    listing = doc["paths"]["/api/v1/resources"]["get"]["responses"]["200"]
    assert {
        "X-Request-Id",
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "RateLimit-Policy",
        "RateLimit",
    } <= set(listing["headers"])
