"""The OpenAPI document states the rules the server enforces (issue 14 #16); the
schemathesis run holds the two together, these pin the rules it found missing."""

from __future__ import annotations

from typing import Any

import pytest

from domain.keys import MAX_RATE_LIMIT
from tests.support.clients import Client


@pytest.fixture
async def document(client: Client) -> dict[str, Any]:
    response = await client.get("/api/docs")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


def query_parameter(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    parameters = document["paths"][path]["get"]["parameters"]
    (found,) = [p for p in parameters if p["name"] == name]
    return found


async def test_bodies_that_refuse_unknown_fields_say_so(document: dict[str, Any]) -> None:
    for name in ("RegisterBody", "ResourceInput", "ResourcePatchInput", "SubscribeBody"):
        assert schema(document, name)["additionalProperties"] is False, name


async def test_key_requests_state_names_counts_and_ranges(document: dict[str, Any]) -> None:
    fields = schema(document, "RegisterBody")["properties"]
    assert fields["permissions"]["minItems"] == 1
    assert fields["permissions"]["items"]["enum"] == ["read", "write", "admin"]
    assert (fields["rateLimit"]["minimum"], fields["rateLimit"]["maximum"]) == (1, MAX_RATE_LIMIT)
    assert "pattern" in fields["name"] and "pattern" in fields["userId"]


async def test_subscriptions_state_event_types_and_url_shape(document: dict[str, Any]) -> None:
    fields = schema(document, "SubscribeBody")["properties"]
    assert set(fields["eventTypes"]["items"]["enum"]) == {
        "resource.created",
        "resource.updated",
        "resource.deleted",
    }
    assert fields["url"]["pattern"].startswith("^https?://")


async def test_cursor_rules_are_stated(document: dict[str, Any]) -> None:
    for path in ("/api/v1/keys", "/api/v1/resources"):
        cursor = query_parameter(document, path, "cursor")
        assert "pattern" in cursor["schema"] and "page" in cursor["description"], path


async def test_health_needs_no_key(document: dict[str, Any]) -> None:
    assert document["paths"]["/api/v1/health"]["get"]["security"] == [{}]


async def test_metadata_values_refer_to_a_schema_the_document_has(
    document: dict[str, Any],
) -> None:
    metadata = schema(document, "ResourceInput")["properties"]["metadata"]
    ref = metadata["additionalProperties"]["$ref"]
    assert ref.rsplit("/", 1)[1] in document["components"]["schemas"]
