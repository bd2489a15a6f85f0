"""The README cannot rot: its quickstart (the curl block and the fetch example) runs
against a real `keygate serve`, its admin-key command against the real CLI, and every
link it has points at a file of this repository."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import environment
from tests.support.servers import ROOT, ServerProcess, running_server

pytestmark = pytest.mark.slow
README = (ROOT / "README.md").read_text()


def block(marker: str) -> str:
    """The fenced code block right after `<!-- marker -->`."""
    found = re.search(rf"<!-- {marker} -->\s*```\w*\n(.*?)\n```", README, re.DOTALL)
    assert found, f"README has no {marker} block"
    return found.group(1)


@pytest.fixture
def served(db: str) -> Iterator[ServerProcess]:
    with running_server(db, {"WORKERS": "1"}) as server:
        yield server


def test_the_curl_quickstart_runs_as_written(served: ServerProcess) -> None:
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block("quickstart:curl")],
        env=environment(BASE=served.url), capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    out = ran.stdout.splitlines()
    assert out[0] == '["Blue Train","Kind of Blue"]'
    assert json.loads(out[1]) == {
        "page": 1, "limit": 10, "total": 2, "totalPages": 1, "hasNext": False,
        "nextCursor": None, "totalIsEstimate": False,
    }  # fmt: skip
    assert re.fullmatch(r'\{"id":\d+,"name":"Kind of Blue","category":"music"\}', out[2])
    assert out[3:5] == ["Miles Davis, 1959", "DELETE: 204"]
    headers = [line.split(":")[0].lower() for line in out[5:9]]
    assert headers == [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "ratelimit-policy",
        "ratelimit",
    ]
    assert out[9].startswith("HTTP/1.1 429")
    assert re.fullmatch(r"retry-after: \d+", out[10].lower().strip())
    assert json.loads(out[11])["error"].startswith("Rate limit exceeded. Limit: 100")


def test_the_fetch_example_runs_as_written(served: ServerProcess, tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "Node is needed to run the README's fetch example (.ci/run installs it)"
    script = tmp_path / "quickstart.mjs"
    script.write_text(block("quickstart:fetch"))
    ran = subprocess.run(
        [node, str(script)], env=environment(BASE=served.url),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert re.fullmatch(r"\[ 'Kind of Blue' \] 1 left this hour: \d+\n", ran.stdout), ran.stdout


def test_the_admin_key_command_works(db: str) -> None:
    line = next(
        line for line in README.splitlines() if line.startswith("uv run keygate keys issue")
    )
    args = shlex.split(line.removeprefix("uv run keygate "))
    issued = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli.main", *args],
        cwd=ROOT, env=environment(db), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    assert issued.stdout.startswith("rk_")


def test_every_link_points_into_the_repository() -> None:
    for document in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):
        text = document.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            assert not re.match(r"[a-z]+:", target), f"{document.name} links outside: {target}"
            path = (document.parent / target.split("#")[0]).resolve()
            assert path.is_relative_to(ROOT), f"{document.name} links outside: {target}"
            assert path.exists(), f"{document.name} links to a missing file: {target}"
