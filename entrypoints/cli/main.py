"""The `keygate` command: serve, migrate, and operator tasks on the same use cases."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace

from domain.errors import DomainError, InvalidInput
from entrypoints.cli import audit as audit_commands
from entrypoints.cli import demo as demo_commands
from entrypoints.cli import keys as keys_commands
from entrypoints.cli import logs as logs_commands
from entrypoints.cli import port
from entrypoints.cli import usage as usage_commands
from entrypoints.cli import webhooks as webhooks_commands
from entrypoints.cli.common import EXIT_FAILURE, EXIT_USAGE, CliError, Parser, positive_int
from entrypoints.cli.database import database
from entrypoints.settings import Settings, SettingsError
from entrypoints.supervision import become_supervisor


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, got {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="keygate", description="keygate: API keys, quotas and CRUD over HTTP.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", help="address to bind (HOST)")
    serve.add_argument("--port", type=_port, help="port to bind (PORT)")
    serve.add_argument("--workers", type=positive_int, help="worker processes (WORKERS)")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="apply pending schema migrations")
    migrate.set_defaults(handler=_migrate)

    keys_commands.add_commands(commands)
    demo_commands.add_commands(commands)
    logs_commands.add_commands(commands)
    webhooks_commands.add_commands(commands)
    audit_commands.add_commands(commands)
    usage_commands.add_commands(commands)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    settings = replace(
        settings,
        host=args.host or settings.host,
        port=settings.port if args.port is None else args.port,
        workers=args.workers or settings.workers,
    )
    with (
        port.claimed(settings.host, settings.port),
        database(settings, migrate_external=True) as db,
    ):
        # Worker processes build their settings from the environment, like this one.
        os.environ["DATABASE_URL"] = db.url
        base = f"http://{_url_host(settings.host)}:{settings.port}"
        print(
            f"keygate: serving {base} (API docs {base}/docs, dashboard {base}/dashboard)\n"
            f"keygate: {db.describe()}",
            file=sys.stderr,
            flush=True,
        )
        become_supervisor()
        from entrypoints.cli.server import run_server

        run_server(settings)
    return 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings, migrate_external=True) as db:
        applied = db.applied
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    # An unreachable database is reported in one line below; without a handler of its
    # own, the pool's retry warnings would also reach stderr through logging's last resort.
    logging.getLogger("psycopg").addHandler(logging.NullHandler())
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        status: int = args.handler(args, settings)
    except SettingsError as exc:
        print(f"keygate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CliError as exc:
        print(f"keygate: error: {exc}", file=sys.stderr)
        return exc.status
    except InvalidInput as exc:
        detail = "; ".join(f"{d.field}: {d.message}" for d in exc.details)
        print(
            f"keygate: error: {exc.message}" + (f" ({detail})" if detail else ""), file=sys.stderr
        )
        return EXIT_USAGE
    except DomainError as exc:
        print(f"keygate: error: {exc.message}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
