"""`keygate demo`: a fresh database filled with a sample (see demo_data.py), so that the
list, search and the dashboard have something to show; and a key to look with."""

from __future__ import annotations

import argparse
from typing import Any

from application.resources import ListParams
from domain.audit import CLI
from domain.key_requests import KeyRequest
from domain.keys import OPERATOR, Permission
from domain.resources import ResourceDraft
from entrypoints.cli.common import CliError
from entrypoints.cli.demo_data import SAMPLE
from entrypoints.cli.run import with_container
from entrypoints.container import Container
from entrypoints.settings import Settings

DEMO_USER = "demo"


def add_commands(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", help="fill an empty database with sample resources and print a key to try them"
    )
    demo.set_defaults(handler=_demo)


async def _fill(container: Container) -> tuple[int, str]:
    existing = await container.list_resources()(OPERATOR, ListParams(limit=1))
    if existing.info.total:
        raise CliError(
            f"the database already holds {existing.info.total} resource(s);"
            " keygate demo fills an empty one"
        )
    create = container.create_resource()
    count = 0
    for category, items in SAMPLE.items():
        for name, description, metadata in items:
            await create(OPERATOR, ResourceDraft(name, description, category, metadata))
            count += 1
    request = KeyRequest(
        name="demo", permissions=frozenset({Permission.READ, Permission.WRITE}), user_id=DEMO_USER
    )
    issued = await container.issue_key()(request, OPERATOR, new_user_id=DEMO_USER, origin=CLI)
    return count, issued.raw_key


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    count, key = with_container(settings, _fill)
    print(f"created {count} resources in {len(SAMPLE)} categories ({', '.join(SAMPLE)})")
    print(f"a key to try them (read, write; shown once): {key}")
    print(
        "  curl -H 'Authorization: Bearer <key>' 'http://127.0.0.1:8000/api/resources?search=blue'"
    )
    return 0
