"""The audit log: who did what to which key or webhook subscription, from where.

A use case records an AuditEvent on its unit of work, which writes it in the same
transaction as the change it describes: the row exists exactly when the change does.
An event holds names, ids, permissions, limits and times, never a raw key, its hash
or a webhook's signing secret.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from domain.credits import CreditRule, CreditsSetting
from domain.errors import FieldError, InvalidInput
from domain.keys import ApiKey, Caller, UserId, acting_user
from domain.times import wire_time
from domain.webhooks import Webhook

# A value as it goes into `changes`: JSON scalars or a list of strings.
Json = str | int | bool | list[str] | dict[str, object] | None
Changes = dict[str, tuple[Json, Json]]


class Action(enum.StrEnum):
    KEY_ISSUED = "key.issued"
    KEY_ROTATED = "key.rotated"
    KEY_REVOKED = "key.revoked"
    KEY_UPDATED = "key.updated"
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_DELETED = "webhook.deleted"


class Via(enum.StrEnum):
    API = "api"
    CLI = "cli"
    DASHBOARD = "dashboard"


class TargetType(enum.StrEnum):
    KEY = "key"
    WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a change comes from: the entrypoint and, over HTTP, the client and request."""

    via: Via
    ip: str | None = None
    request_id: str | None = None


CLI = Origin(Via.CLI)


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: UserId
    key_id: int | None
    via: Via


@dataclass(frozen=True, slots=True)
class AuditEvent:
    action: Action
    actor: Actor
    target_type: TargetType
    target_id: int
    ip: str | None
    request_id: str | None
    changes: Changes | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """An event as the log keeps it: numbered and dated by the store."""

    id: int
    at: datetime
    event: AuditEvent


def actor_of(caller: Caller | None, origin: Origin, user_id: UserId | None = None) -> Actor:
    """The actor of a change: the caller's user and key, or (signing up, with no key
    yet) `user_id`. A dashboard session signed in through a provider acts with no key
    (its principal's id, 0, names none)."""
    if isinstance(caller, ApiKey):
        return Actor(caller.user_id, caller.id or None, origin.via)
    if caller is None:
        assert user_id is not None, "a self-service change names the user it creates"
        return Actor(user_id, None, origin.via)
    return Actor(acting_user(caller), None, origin.via)


def event(
    action: Action,
    actor: Actor,
    origin: Origin,
    target: tuple[TargetType, int],
    changes: Changes | None,
) -> AuditEvent:
    return AuditEvent(action, actor, target[0], target[1], origin.ip, origin.request_id, changes)


def key_settings(key: ApiKey) -> dict[str, Json]:
    """What a key is configured with, by wire name: what issuing it set."""
    return {
        "name": key.name,
        "prefix": key.prefix,  # the non-secret display prefix, never the key
        "userId": key.user_id,
        "permissions": sorted(p.value for p in key.permissions),
        "rateLimit": key.rate_limit,
        "rateLimitPerMinute": key.rate_limit_per_minute,
        "rateLimitPerDay": key.rate_limit_per_day,
        "expiresAt": wire_time(key.expires_at),
    }


def key_issued(key: ApiKey, actor: Actor, origin: Origin) -> AuditEvent:
    changes: Changes = {f: (None, v) for f, v in key_settings(key).items() if v is not None}
    return event(Action.KEY_ISSUED, actor, origin, (TargetType.KEY, key.id), changes)


def key_rotated(
    old: ApiKey, new: ApiKey, ends_at: datetime | None, actor: Actor, origin: Origin
) -> AuditEvent:
    """The old key is the target; the new one is named in the changes, as is the old
    key's end: at once (revoked) or at the end of its grace period."""
    changes: Changes = {"replacedBy": (None, new.id)}
    if ends_at is None:
        changes["isActive"] = (True, False)
    else:
        changes["expiresAt"] = (wire_time(old.expires_at), wire_time(ends_at))
    return event(Action.KEY_ROTATED, actor, origin, (TargetType.KEY, old.id), changes)


def key_revoked(key: ApiKey, actor: Actor, origin: Origin) -> AuditEvent:
    changes: Changes = {"isActive": (True, False)}
    return event(Action.KEY_REVOKED, actor, origin, (TargetType.KEY, key.id), changes)


def json_value(value: object) -> Json:
    """A changed value as the log holds it: times as ISO text, the rest as they are."""
    if isinstance(value, datetime):
        return wire_time(value)
    if isinstance(value, CreditRule | CreditsSetting):
        refill = value.refill
        shown = {"interval": refill.interval, "amount": refill.amount} if refill else None
        return {"remaining": value.remaining, "refill": shown}
    assert value is None or isinstance(value, str | int | list), value
    return value


def key_updated(
    key: ApiKey, changes: dict[str, tuple[object, object]], actor: Actor, origin: Origin
) -> AuditEvent:
    """`changes` by wire name: (old, new) as the key held them."""
    logged: Changes = {f: (json_value(old), json_value(new)) for f, (old, new) in changes.items()}
    return event(Action.KEY_UPDATED, actor, origin, (TargetType.KEY, key.id), logged)


def webhook_settings(webhook: Webhook) -> dict[str, Json]:
    """A subscription by wire name, without its signing secret."""
    return {
        "url": webhook.url,
        "eventTypes": sorted(str(t) for t in webhook.event_types),
        "userId": webhook.user_id,
    }


def webhook_created(webhook: Webhook, actor: Actor, origin: Origin) -> AuditEvent:
    changes: Changes = {f: (None, v) for f, v in webhook_settings(webhook).items()}
    return event(Action.WEBHOOK_CREATED, actor, origin, (TargetType.WEBHOOK, webhook.id), changes)


def webhook_deleted(webhook: Webhook, actor: Actor, origin: Origin) -> AuditEvent:
    changes: Changes = {f: (v, None) for f, v in webhook_settings(webhook).items()}
    return event(Action.WEBHOOK_DELETED, actor, origin, (TargetType.WEBHOOK, webhook.id), changes)


E = TypeVar("E", bound=enum.StrEnum)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters of a listing; None: any."""

    action: Action | None = None
    target_type: TargetType | None = None
    target_id: int | None = None


def audit_query(
    action: str | None, target_type: str | None = None, target_id: int | None = None
) -> AuditQuery:
    return AuditQuery(
        action=_member(Action, action, "action"),
        target_type=_member(TargetType, target_type, "targetType"),
        target_id=target_id,
    )


def _member(kind: type[E], value: str | None, field: str) -> E | None:
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidInput(
            f"Invalid query parameter '{field}'", [FieldError(field, f"must be one of: {allowed}")]
        ) from None
