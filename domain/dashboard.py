"""Who acts in a dashboard session, and the pure rules of such sessions."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from domain.keys import DEFAULT_RATE_LIMIT, ApiKey, Permission, UserId

SESSION_LIFETIME = timedelta(hours=8)
# No stored key has id 0 (ids start at 1), so a principal can never be mistaken for one.
PRINCIPAL_KEY_ID = 0
SESSION_PERMISSIONS = frozenset({Permission.READ, Permission.WRITE})
# The quota subject that counts sign-in attempts from one address.
SIGNIN_SUBJECT_PREFIX = "signin-ip:"


def oidc_user_id(issuer: str, subject: str) -> UserId:
    """A stable user id for an OpenID Connect identity.

    `sub` is unique only within its issuer, so both go into the id; hashing keeps the
    id short and free of whatever characters a provider puts in `sub`.
    """
    digest = hashlib.sha256(f"{issuer}|{subject}".encode()).hexdigest()
    return f"oidc_{digest[:32]}"


def session_principal(user_id: UserId, since: datetime) -> ApiKey:
    """The caller a person signed in through a provider acts as: their own keys, read
    and write, never admin (an identity provider vouches for who, not for what rights)."""
    return ApiKey(
        id=PRINCIPAL_KEY_ID,
        user_id=user_id,
        name="dashboard session",
        prefix="",
        permissions=SESSION_PERMISSIONS,
        rate_limit=DEFAULT_RATE_LIMIT,
        is_active=True,
        created_at=since,
    )


def signin_subject(client_ip: str | None) -> str:
    return SIGNIN_SUBJECT_PREFIX + (client_ip or "unknown")
