"""Names in the OpenAPI document that a generated client turns into its own names:
each operation's operationId (`listResources` becomes `list_resources()`), and the
enums of query parameters, which become named schemas (`ResourceSort`) instead of
types named after a path (`ApiV1ResourcesListResourcesSort`)."""

from __future__ import annotations

from typing import Any

# Handlers whose function name is not the name a client should call.
RENAMED = {
    "health": "getHealth",
    "ready": "getReadiness",
    "register": "registerKey",
    "key_usage": "getKeyUsage",
    "key_quota": "getKeyQuota",
    "subscribe": "createWebhook",
    "unsubscribe": "deleteWebhook",
    "list_deliveries": "listWebhookDeliveries",
    "list_audit": "listAuditEvents",
}
# (operationId, query parameter) -> the schema its enum is named as.
ENUMS = {
    ("listResources", "sort"): "ResourceSort",
    ("listResources", "order"): "SortOrder",
    ("listAuditEvents", "action"): "AuditAction",
    ("listAuditEvents", "targetType"): "AuditTargetType",
}
# (object schema, property) -> the schema its enum (or its items' enum) is named as.
PROPERTY_ENUMS = {
    ("RegisterBody", "permissions"): "Permission",
    ("SubscribeBody", "eventTypes"): "EventType",
    ("AuditEntryView", "action"): "AuditAction",
    ("TargetView", "type"): "AuditTargetType",
    ("ActorView", "via"): "AuditVia",
    ("RefillBody", "interval"): "RefillInterval",
}


def camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def operation_id(route_handler: Any, http_method: Any, path_components: Any) -> str:
    """An OpenAPIConfig operation_id_creator: the handler's name, camelCased."""
    name: str = route_handler.handler_name
    return RENAMED.get(name) or camel(name)


def _named(schemas: dict[str, Any], name: str, schema: Any) -> Any:
    """A reference to `schema` as the component `name`; `schema` unchanged when it is
    no inline enum (already named, or changed by someone)."""
    if not (isinstance(schema, dict) and "enum" in schema):
        return schema
    # An optional parameter's enum lists null too; the named type holds the values.
    schemas[name] = {"type": "string", "enum": [v for v in schema["enum"] if v is not None]}
    reference = {"$ref": f"#/components/schemas/{name}"}
    if "description" in schema:
        reference["description"] = schema["description"]
    return reference


def name_enums(document: dict[str, Any]) -> None:
    """Move the enums listed in ENUMS and PROPERTY_ENUMS into components (in place; a
    second call finds references and changes nothing)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for (owner, field), name in PROPERTY_ENUMS.items():
        properties = schemas.get(owner, {}).get("properties", {})
        value = properties.get(field)
        if isinstance(value, dict) and "items" in value:
            value["items"] = _named(schemas, name, value["items"])
        elif field in properties:
            properties[field] = _named(schemas, name, value)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                key = (str(operation.get("operationId")), str(parameter.get("name")))
                if key in ENUMS:
                    parameter["schema"] = _named(schemas, ENUMS[key], parameter.get("schema"))
