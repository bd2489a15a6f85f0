"""The image and the compose file, checked without a Docker engine: hadolint lints the
Dockerfile, the image's /app is laid out in a folder the way the Dockerfile does it (its
COPY lines, its `uv sync`), and its CMD must resolve on the PATH the Dockerfile sets."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.servers import ROOT

pytestmark = pytest.mark.slow
HADOLINT = Path(sys.executable).with_name("hadolint")


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    linted = subprocess.run(
        [str(HADOLINT), "--no-color", "Dockerfile"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert linted.returncode == 0, linted.stdout + linted.stderr


def lay_out_app(app: Path) -> str:
    """/app as the Dockerfile builds it, in `app`; the image's PATH."""
    path = os.environ["PATH"]
    for name, args in instructions():
        if name == "ENV" and "PATH=" in args:
            value = re.search(r'PATH="([^"]+)"', args)
            assert value is not None, args
            path = value.group(1).replace("/app", str(app)).replace("$PATH", path)
        elif name == "COPY":
            *sources, _ = args.split()
            for source in sources:
                src = ROOT / source
                if src.is_dir():
                    shutil.copytree(src, app / source, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(src, app / source)
        elif name == "RUN" and "uv sync" in args and "--no-install-project" not in args:
            sync = next(part for part in args.split("&&") if "uv sync" in part)
            env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_"))}
            subprocess.run(shlex.split(sync), cwd=app, env=env, check=True, capture_output=True)
    return path


def test_the_image_layout_runs_keygate_from_path_without_the_embedded_server(
    tmp_path: Path,
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    path = lay_out_app(app)
    cmd = json.loads(dict(instructions())["CMD"])
    assert cmd == ["keygate", "serve"]
    found = shutil.which(cmd[0], path=path)
    assert found == str(app / ".venv/bin/keygate")

    env = {"PATH": path, "HOME": str(tmp_path)}
    helped = subprocess.run([found, "--help"], env=env, capture_output=True, text=True, check=False)
    assert helped.returncode == 0 and "serve" in helped.stdout, helped.stderr
    python = app / ".venv/bin/python"
    absent = subprocess.run([python, "-c", "import pgserver"], capture_output=True, check=False)
    assert absent.returncode != 0, "the embedded server is in the image"
    no_url = subprocess.run(
        [found, "keys", "list"], env=env, capture_output=True, text=True, check=False
    )
    assert no_url.returncode == 2
    assert no_url.stderr.startswith("keygate: error: DATABASE_URL is not set"), no_url.stderr
    assert no_url.stderr.count("\n") == 1


def interpolated(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR:-default} and ${VAR:?error}, from `env`."""

    def one(match: re.Match[str]) -> str:
        name, kind, fallback = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        assert kind == ":-", f"{name} must be set (compose says: {fallback})"
        return fallback

    return re.sub(r"\$\{(\w+)(:-|:\?)([^}]*)\}", one, value)


def example_env() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {k: v for k, v in pairs}


def test_compose_keeps_secrets_in_env_restarts_and_binds_to_localhost() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    db, api = compose["services"]["db"], compose["services"]["api"]
    for service in (db, api):
        assert service["restart"] == "unless-stopped"
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "${POSTGRES_PASSWORD:?" in api["environment"]["DATABASE_URL"]

    env = example_env()
    assert env["POSTGRES_PASSWORD"]
    assert interpolated(api["ports"][0], {}) == "127.0.0.1:8000:8000"
    assert interpolated(api["ports"][0], {"API_BIND": "0.0.0.0"}) == "0.0.0.0:8000:8000"
    url = interpolated(api["environment"]["DATABASE_URL"], env)
    assert url == f"postgresql://keygate:{env['POSTGRES_PASSWORD']}@db:5432/keygate"
    with pytest.raises(AssertionError, match="POSTGRES_PASSWORD must be set"):
        interpolated(db["environment"]["POSTGRES_PASSWORD"], {})

    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert ".env" in (ROOT / ".dockerignore").read_text().split()
