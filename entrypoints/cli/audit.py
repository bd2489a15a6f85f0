"""`keygate audit list`: the audit log, newest first, as the operator sees it."""

from __future__ import annotations

import argparse
import json
from typing import Any

import msgspec

from domain.audit import Action, TargetType, audit_query
from domain.keys import OPERATOR
from domain.pagination import MAX_LIMIT, PageRequest
from entrypoints.cli.common import positive_int
from entrypoints.cli.run import with_container
from entrypoints.container import Container
from entrypoints.settings import Settings
from entrypoints.views.audit import AuditEntryView

DEFAULT_SHOWN = 100


def add_commands(commands: Any) -> None:
    audit = commands.add_parser("audit", help="the audit log of key and webhook changes")
    actions = audit.add_subparsers(dest="action", required=True, parser_class=type(audit))
    listing = actions.add_parser("list", help="audit entries, newest first")
    listing.add_argument("--action", dest="only_action", choices=[a.value for a in Action])
    listing.add_argument("--target-type", choices=[t.value for t in TargetType])
    listing.add_argument("--target-id", type=positive_int, help="only this key's or webhook's")
    listing.add_argument(
        "--limit",
        type=positive_int,
        default=DEFAULT_SHOWN,
        help=f"show at most this many (default {DEFAULT_SHOWN})",
    )
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=_list)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    query = audit_query(args.only_action, args.target_type, args.target_id)

    async def entries(container: Container) -> list[AuditEntryView]:
        views: list[AuditEntryView] = []
        cursor = None
        while len(views) < args.limit:
            page = PageRequest(1, min(MAX_LIMIT, args.limit - len(views)))
            found, info = await container.list_audit()(OPERATOR, query, page, cursor)
            views += [AuditEntryView.of(e) for e in found]
            if not info.has_next:
                break
            cursor = info.next_cursor
        return views

    views = with_container(settings, entries)
    if args.json:
        print(msgspec.json.encode(views).decode())
        return 0
    print(f"{'ID':>6}  {'AT':<27} {'ACTION':<16} {'TARGET':<14} {'ACTOR':<28}  CHANGES")
    for v in views:
        actor = f"{v.actor.user_id[:16]}/{v.actor.key_id or '-'} ({v.actor.via})"
        changes = json.dumps(v.changes, ensure_ascii=False) if v.changes else "-"
        print(
            f"{v.id:>6}  {v.at:<27} {v.action:<16} {v.target.type + ' ' + str(v.target.id):<14}"
            f" {actor:<28}  {changes}"
        )
    return 0
