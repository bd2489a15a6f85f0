"""The OpenAPI document (/api/docs): what Litestar derives from the handlers, made to say
every rule the server enforces, so that a client generated from it sends nothing the
server refuses (tests/http/test_schemathesis.py holds the two together).

Litestar writes a body struct's fields, types and msgspec length constraints. It does not
write that a struct forbids unknown fields, nor the rules the domain checks with messages
of its own (a name that is blank, a NUL PostgreSQL cannot store, the permission names):
`documented` states those in the document only, beside the field, and the domain keeps
enforcing them with its own messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Request, Response, Router
from litestar._openapi.schema_generation.plugins import openapi_schema_plugins
from litestar.enums import MediaType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, Schema, SecurityScheme
from litestar.plugins import OpenAPISchemaPlugin

from entrypoints.http.errors import error_body

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition

# PostgreSQL text holds no NUL; the domain refuses one wherever text is stored or compared.
NO_NUL = r"^[^\u0000]*$"
# ... and a key name must have something besides whitespace (Python's str.strip()).
NOT_BLANK = r"^[^\u0000]*[^\u0000\s][^\u0000]*$"
# msgspec reads a JSON number beyond a double (1e400) as out of range.
LARGEST_DOUBLE = 1.7976931348623157e308
JSON_VALUE = "JsonValue"
JSON_INTEGER = 'Requests per rolling hour; a JSON integer (5000.0 or "5000" is a 400)'
# What SignedCursors issue: base64url JSON, a dot, a base64url HMAC-SHA256.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$"
# A public http(s) URL by host name, as a client should write one: lower-case labels, a
# top-level domain of letters that is none of the local ones, a port 1-65535, RFC 3986
# characters after the host. (The server also takes public IP literals.)
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_AFTER_HOST = r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"
WEBHOOK_URL_PATTERN = (
    rf"^https?://(?:{_LABEL}\.)+(?!(?:local|internal|localhost)\.?(?:[:/?#]|$))[a-z]{{2,63}}\.?"
    rf"(?::{_PORT})?(?:[/?#]{_AFTER_HOST})?$"
)
WEBHOOK_URL_RULES = (
    "An http or https URL of a public host. Also accepted: a public IPv4 or IPv6 literal."
    " Refused: private, loopback and link-local targets (unless the operator allows them),"
    " credentials in the URL, port 0, hosts over 253 characters."
)
CURSOR_RULES = (
    "Opaque cursor from pagination.nextCursor, used as given (any other value is a 400)."
    " It replaces page: sending both is a 400. Filters and sort default to the cursor's;"
    " given, they must be the ones it was issued for (a 400 otherwise)."
)


def documented(**json_schema: Any) -> msgspec.Meta:
    """Schema keywords (Litestar's `Schema` attribute names) for the document only."""
    return msgspec.Meta(extra_json_schema={"extra": json_schema})


JSON_VALUE_REF = {"$ref": f"#/components/schemas/{JSON_VALUE}"}
# Any JSON value resource metadata may hold: strings and keys without NUL, numbers a
# double can hold. (Its depth limit is stated in words only.)
JSON_VALUE_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": NO_NUL},
        # Integers of any size are kept exactly; other numbers must fit a double.
        {"type": "integer"},
        {"type": "number", "minimum": -LARGEST_DOUBLE, "maximum": LARGEST_DOUBLE},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": JSON_VALUE_REF},
        {
            "type": "object",
            "propertyNames": {"pattern": NO_NUL},
            "additionalProperties": JSON_VALUE_REF,
        },
    ]
}
JSON_OBJECT = {"property_names": {"pattern": NO_NUL}, "additional_properties": JSON_VALUE_REF}


class StrictStructSchemaPlugin(OpenAPISchemaPlugin):
    """Litestar's struct schemas, with `additionalProperties: false` for the structs
    that refuse unknown fields (msgspec's forbid_unknown_fields)."""

    # Litestar's own plugin for structs (a private name: it has no public one).
    _inner = next(p for p in openapi_schema_plugins if type(p).__name__ == "StructSchemaPlugin")

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return self._inner.is_plugin_supported_field(field_definition)

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = self._inner.to_openapi_schema(field_definition, schema_creator)
        config = getattr(field_definition.type_, "__struct_config__", None)
        if config is not None and config.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


class DocumentRenderPlugin(JsonRenderPlugin):
    """Serves the document with the schemas no Python type stands for (Litestar keeps
    only the schemas it generated in components)."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        schemas = openapi_schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault(JSON_VALUE, JSON_VALUE_SCHEMA)
        return super().render(request, openapi_schema)


async def _json_not_found(response: Response[Any]) -> Response[Any]:
    # Litestar's OpenAPI router answers an unknown path under it (/api/docs/swagger)
    # with an HTML page; under /api every error is JSON.
    if response.status_code == 404:
        return Response(error_body("Not found"), status_code=404, media_type=MediaType.JSON)
    return response


def openapi_config(version: str, description: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        openapi_router=Router(
            "/api/docs", route_handlers=[], include_in_schema=False, after_request=_json_not_found
        ),
        title="keygate",
        version=version,
        description=description,
        path="/api/docs",
        # /api/docs is the document itself; /docs renders it (controllers/docs.py).
        render_plugins=[DocumentRenderPlugin(path="/", media_type=MediaType.JSON)],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="rk_ API key")
            },
        ),
        security=[{"bearer": []}],
    )
