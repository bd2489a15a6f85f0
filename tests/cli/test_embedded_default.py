"""With no DATABASE_URL every command uses the embedded server of `serve`'s data folder:
it joins a running one, or starts one for the command and stops it after."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.support.cli import KEYGATE, environment, keygate
from tests.support.processes import postgres_processes_for
from tests.support.servers import ROOT, ServerProcess

pytestmark = pytest.mark.slow


def keys_of(url: str, key: str) -> list[str]:
    request = urllib.request.Request(f"{url}/api/keys", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return [k["name"] for k in json.load(response)["data"]]


def issue_admin(data_dir: Path, name: str) -> str:
    issued = keygate(
        "keys", "issue", "--user", "admin", "--name", name,
        "--permissions", "read,write,admin", KEYGATE_DATA_DIR=str(data_dir),
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip()


def test_commands_on_a_fresh_data_folder_start_the_server_and_stop_it_after(
    data_dir: Path,
) -> None:
    key = issue_admin(data_dir, "first admin")
    assert key.startswith("rk_")
    assert postgres_processes_for(data_dir) == []

    listed = keygate("keys", "list", "--json", KEYGATE_DATA_DIR=str(data_dir))
    assert listed.returncode == 0, listed.stderr
    assert [k["name"] for k in json.loads(listed.stdout)] == ["first admin"]
    migrated = keygate("migrate", KEYGATE_DATA_DIR=str(data_dir))
    assert (migrated.returncode, migrated.stdout) == (0, "applied 0 migration(s)\n")
    assert postgres_processes_for(data_dir) == []

    # The key made before serve ever ran works against serve on that folder.
    server = ServerProcess(None, {"KEYGATE_DATA_DIR": str(data_dir), "WORKERS": "1"})
    try:
        server.wait_ready(timeout=60)
        assert keys_of(server.url, key) == ["first admin"]
    finally:
        server.cleanup()


def test_commands_beside_a_running_serve_use_its_server_and_leave_it_running(
    data_dir: Path,
) -> None:
    server = ServerProcess(None, {"KEYGATE_DATA_DIR": str(data_dir), "WORKERS": "1"})
    try:
        server.wait_ready(timeout=60)
        key = issue_admin(data_dir, "while serving")
        assert keys_of(server.url, key) == ["while serving"]

        for args in (["migrate"], ["logs", "prune", "--older-than", "30d"], ["keys", "list"]):
            done = keygate(*args, KEYGATE_DATA_DIR=str(data_dir))
            assert done.returncode == 0, (args, done.stderr)
        dispatcher = subprocess.Popen(
            [*KEYGATE, "webhooks", "dispatch"],
            cwd=ROOT,
            env=environment(KEYGATE_DATA_DIR=str(data_dir)),
            stderr=subprocess.PIPE,
            text=True,
        )
        assert dispatcher.stderr is not None
        assert "dispatching webhooks" in dispatcher.stderr.readline()
        dispatcher.send_signal(signal.SIGTERM)
        assert dispatcher.wait(30) == 0

        # Every command left; the server serve runs on is still there.
        assert postgres_processes_for(data_dir)
        assert keys_of(server.url, key) == ["while serving"]
        assert server.stop(signal.SIGINT, group=True) == 0
    finally:
        server.cleanup()
    assert postgres_processes_for(data_dir) == []


def test_serve_says_where_it_listens_and_how_to_open_its_database(data_dir: Path) -> None:
    server = ServerProcess(None, {"KEYGATE_DATA_DIR": str(data_dir), "WORKERS": "1"})
    try:
        server.wait_ready(timeout=60)
        lines = server.output().splitlines()
        assert f"keygate: serving {server.url} (API docs {server.url}/docs," in lines[0]
        prefix = f"keygate: database: embedded PostgreSQL in {data_dir}; open it with: "
        assert lines[1].startswith(prefix)
        psql = shlex.split(lines[1].removeprefix(prefix))
        opened = subprocess.run(
            [*psql, "-Atc", "SELECT count(*) FROM api_keys"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert (opened.returncode, opened.stdout) == (0, "0\n"), opened.stderr
    finally:
        server.cleanup()


def test_serve_on_a_database_url_names_it_without_its_password(db: str) -> None:
    params = conninfo_to_dict(db)
    # The server trusts local connections: the password is there only to be hidden.
    url = (
        f"postgresql://{params['user']}:s3cret@{params['host']}:{params['port']}/{params['dbname']}"
    )
    server = ServerProcess(url, {"WORKERS": "1"})
    try:
        server.wait_ready()
        line = server.output().splitlines()[1]
        assert line == f"keygate: database: {url.replace('s3cret', '***')} (DATABASE_URL)"
    finally:
        server.cleanup()
