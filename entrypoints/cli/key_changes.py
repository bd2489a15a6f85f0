"""`keygate keys update|rotate`: change a key as PATCH /api/keys/{id} and
POST /api/keys/{id}/rotate do, as the operator (who may change everything)."""

from __future__ import annotations

import argparse
from typing import Any

import msgspec

from domain.audit import CLI
from domain.errors import InvalidInput
from domain.key_lifecycle import key_patch, validate_grace
from domain.keys import OPERATOR
from entrypoints.cli.common import EXIT_USAGE, CliError, count, positive_int
from entrypoints.cli.run import with_container
from entrypoints.settings import Settings
from entrypoints.views.keys import IssuedKeyView, KeyView

NONE = "none"
NOT_GIVEN: Any = object()


def _grace(value: str) -> int:
    try:
        return validate_grace(value)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(exc.details[0].message) from None


def _or_none(parse: Any) -> Any:
    def parse_or_none(value: str) -> Any:
        return None if value.strip().lower() == NONE else parse(value)

    parse_or_none.__name__ = getattr(parse, "__name__", "value")
    return parse_or_none


# Options of `keys update` and the field of the patch each one sets.
UPDATE_OPTIONS = {
    "--name": ("name", str, "a new label, 1-100 characters"),
    "--expires-at": ("expiresAt", _or_none(str), "ISO 8601 with a zone, or 'none'"),
    "--rate-limit": ("rateLimit", positive_int, "requests per hour"),
    "--rate-limit-minute": ("rateLimitPerMinute", _or_none(positive_int), "N, or 'none'"),
    "--rate-limit-day": ("rateLimitPerDay", _or_none(positive_int), "N, or 'none'"),
    "--credits": (
        "credits",
        _or_none(lambda v: {"remaining": count(v)}),
        "N (a top-up), or 'none'",
    ),
}


def add_commands(actions: Any) -> None:
    update = actions.add_parser("update", help="change a key's name, expiry or limits")
    update.add_argument("id", type=positive_int, help="the key id")
    for option, (field, parse, help_text) in UPDATE_OPTIONS.items():
        update.add_argument(option, dest=field, type=parse, default=NOT_GIVEN, help=help_text)
    update.add_argument("--json", action="store_true", help="print the key as JSON")
    update.set_defaults(handler=_update)

    rotate = actions.add_parser(
        "rotate", help="issue a successor key and end this one (at once, or after a grace)"
    )
    rotate.add_argument("id", type=positive_int, help="the key id")
    rotate.add_argument(
        "--grace",
        type=_grace,
        default=0,
        metavar="SECONDS",
        help="seconds the old key keeps working, 0-604800 (default 0: revoked at once)",
    )
    rotate.add_argument("--json", action="store_true", help="print the register response object")
    rotate.set_defaults(handler=_rotate)


def _update(args: argparse.Namespace, settings: Settings) -> int:
    given = {
        field: value
        for field, _, _ in UPDATE_OPTIONS.values()
        if (value := getattr(args, field)) is not NOT_GIVEN
    }
    if not given:
        raise CliError(f"nothing to change: give one of {', '.join(UPDATE_OPTIONS)}", EXIT_USAGE)
    patch = key_patch(given)
    key = with_container(settings, lambda c: c.update_key()(OPERATOR, args.id, patch, origin=CLI))
    view = KeyView.of(key)
    print(msgspec.json.encode(view).decode() if args.json else f"updated key {view.id}")
    return 0


def _rotate(args: argparse.Namespace, settings: Settings) -> int:
    issued = with_container(
        settings, lambda c: c.rotate_key()(OPERATOR, args.id, args.grace, origin=CLI)
    )
    print(msgspec.json.encode(IssuedKeyView.of(issued)).decode() if args.json else issued.raw_key)
    return 0
