"""`keygate keys issue|list|revoke`: the operator's side of the key use cases (update
and rotate are in key_changes.py)."""

from __future__ import annotations

import argparse
from typing import Any

import msgspec

from domain.audit import CLI
from domain.key_requests import key_request
from domain.keys import OPERATOR
from domain.pagination import MAX_LIMIT, PageRequest
from entrypoints.cli import key_changes
from entrypoints.cli.common import EXIT_USAGE, CliError, count, positive_int
from entrypoints.cli.run import with_container
from entrypoints.container import Container
from entrypoints.settings import Settings
from entrypoints.views.keys import IssuedKeyView, KeyView


def add_commands(commands: Any) -> None:
    keys = commands.add_parser("keys", help="issue, list, update, rotate and revoke API keys")
    actions = keys.add_subparsers(dest="action", required=True, parser_class=type(keys))

    issue = actions.add_parser("issue", help="issue a key and print it (shown once)")
    issue.add_argument("--user", required=True, help="the user id that owns the key")
    issue.add_argument("--name", required=True, help="a label, 1-100 characters")
    issue.add_argument("--permissions", default="read", help="comma-separated: read,write,admin")
    issue.add_argument("--rate-limit", type=positive_int, help="requests per hour (default 100)")
    issue.add_argument("--rate-limit-minute", type=positive_int, help="requests per minute")
    issue.add_argument("--rate-limit-day", type=positive_int, help="requests per day")
    issue.add_argument("--credits", type=count, metavar="N", help="usage credits (metered key)")
    issue.add_argument(
        "--refill", choices=("daily", "monthly"), help="set the credits back to N each day/month"
    )
    issue.add_argument(
        "--expires-at", metavar="TIME", help="ISO 8601 with a zone, e.g. 2027-01-31T12:00:00Z"
    )
    issue.add_argument("--json", action="store_true", help="print the register response object")
    issue.set_defaults(handler=_issue)

    listing = actions.add_parser("list", help="list keys")
    listing.add_argument("--user", help="only this user's keys")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_list)

    revoke = actions.add_parser("revoke", help="revoke a key at once, on every instance")
    revoke.add_argument("id", type=positive_int, help="the key id")
    revoke.set_defaults(handler=_revoke)
    key_changes.add_commands(actions)


def _credits(args: argparse.Namespace) -> dict[str, object] | None:
    if args.credits is None:
        if args.refill is not None:
            raise CliError("--refill needs --credits N", EXIT_USAGE)
        return None
    refill = {"interval": args.refill, "amount": args.credits} if args.refill else None
    return {"remaining": args.credits, "refill": refill}


def _issue(args: argparse.Namespace, settings: Settings) -> int:
    permissions = (p.strip() for p in args.permissions.split(",") if p.strip())
    request = key_request(
        args.name,
        permissions,
        args.user,
        args.rate_limit,
        expires_at=args.expires_at,
        rate_limit_per_minute=args.rate_limit_minute,
        rate_limit_per_day=args.rate_limit_day,
        credits=_credits(args),
    )
    issued = with_container(
        settings, lambda c: c.issue_key()(request, OPERATOR, new_user_id=args.user, origin=CLI)
    )
    print(msgspec.json.encode(IssuedKeyView.of(issued)).decode() if args.json else issued.raw_key)
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    async def all_keys(container: Container) -> list[KeyView]:
        views: list[KeyView] = []
        page = 1
        while True:
            keys, info = await container.list_keys()(
                OPERATOR, args.user, PageRequest(page, MAX_LIMIT)
            )
            views += [KeyView.of(k) for k in keys]
            if not info.has_next:
                return views
            page += 1

    views = with_container(settings, all_keys)
    if args.json:
        print(msgspec.json.encode(views).decode())
        return 0
    print(
        f"{'ID':>6}  {'PREFIX':<12} {'USER':<20} {'PERMISSIONS':<17} {'LIMIT':>9}  ACTIVE"
        f"  {'EXPIRES':<20}  NAME"
    )
    for v in views:
        print(
            f"{v.id:>6}  {v.prefix:<12} {v.user_id[:20]:<20} {','.join(v.permissions):<17}"
            f" {v.rate_limit:>9}  {'yes' if v.is_active else 'no':<6}"
            f"  {v.expires_at or '-':<20}  {v.name}"
        )
    return 0


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    with_container(settings, lambda c: c.revoke_key()(OPERATOR, args.id, origin=CLI))
    print(f"revoked key {args.id}")
    return 0
