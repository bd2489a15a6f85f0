"""Wire shape of an audit entry (camelCase JSON), for the API and the CLI's --json."""

from __future__ import annotations

from typing import Literal

import msgspec

from domain.audit import AuditEntry
from entrypoints.views.keys import iso

# One side of a change: what the audit log holds (never a secret).
Value = str | int | bool | list[str] | dict[str, object] | None


class ActorView(msgspec.Struct, rename="camel"):
    user_id: str
    key_id: int | None
    via: Literal["api", "cli", "dashboard"]


class TargetView(msgspec.Struct, rename="camel"):
    type: Literal["key", "webhook"]
    id: int


class AuditEntryView(msgspec.Struct, rename="camel"):
    id: int
    at: str
    action: Literal[
        "key.issued",
        "key.rotated",
        "key.revoked",
        "key.updated",
        "webhook.created",
        "webhook.deleted",
    ]
    actor: ActorView
    target: TargetView
    ip: str | None
    request_id: str | None
    # field: [old, new]
    changes: dict[str, tuple[Value, Value]] | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryView:
        event = entry.event
        return cls(
            id=entry.id,
            at=iso(entry.at) or "",
            action=event.action.value,
            actor=ActorView(event.actor.user_id, event.actor.key_id, event.actor.via.value),
            target=TargetView(event.target_type.value, event.target_id),
            ip=event.ip,
            request_id=event.request_id,
            changes=None if event.changes is None else dict(event.changes),
        )
