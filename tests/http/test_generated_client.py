"""A Python client generated from the served document by a real generator
(openapi-python-client) reads well and runs the README's quickstart end to end,
anonymous sign-up included."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support.servers import ServerProcess, running_server

pytestmark = pytest.mark.slow
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "keygate_client"


@pytest.fixture
def served(db: str) -> Iterator[ServerProcess]:
    with running_server(db, {"WORKERS": "1"}) as server:
        yield server


@pytest.fixture
def client_package(served: ServerProcess, tmp_path: Path) -> Iterator[Any]:
    config = tmp_path / "config.yml"
    config.write_text(f"package_name_override: {PACKAGE}\n")
    generated = subprocess.run(
        [
            str(GENERATOR), "generate", "--url", f"{served.url}/api/docs", "--meta", "none",
            "--config", str(config), "--output-path", str(tmp_path / PACKAGE),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stdout + generated.stderr
    # The one thing the generator cannot read is the recursive JsonValue (any JSON a
    # resource's metadata may hold): it types metadata loosely instead. Anything else
    # it warns about is a defect of the document.
    warned = set(re.findall(r"Unable to parse schema (\S+)", generated.stdout + generated.stderr))
    assert warned <= {"/components/schemas/JsonValue"}, generated.stdout + generated.stderr
    assert "will not be generated" not in generated.stdout, generated.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def api(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def test_every_operation_is_a_function_named_for_what_it_does(
    client_package: Any, tmp_path: Path
) -> None:
    functions = {
        path.stem for path in (tmp_path / PACKAGE / "api").rglob("*.py") if path.stem != "__init__"
    }
    assert functions == {
        "get_health", "register_key", "list_keys", "revoke_key", "rotate_key", "get_key_usage",
        "list_resources", "create_resource", "get_resource", "replace_resource",
        "patch_resource", "delete_resource", "list_webhooks", "create_webhook",
        "delete_webhook", "list_webhook_deliveries", "update_key", "list_audit_events",
        "get_key_quota", "get_readiness",
    }  # fmt: skip
    models = importlib.import_module(f"{PACKAGE}.models")
    named = {"ResourceSort", "SortOrder", "Permission", "EventType", "AuditAction", "AuditVia"}
    assert named | {"AuditTargetType"} <= set(dir(models))


def test_the_quickstart_through_the_generated_client(
    client_package: Any, served: ServerProcess
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    anonymous = client_package.Client(base_url=served.url)
    registered = api("keys.register_key").sync(
        client=anonymous,
        body=models.RegisterBody(
            name="generated client",
            permissions=[models.Permission.READ, models.Permission.WRITE],
        ),
    )
    assert registered.key.startswith("rk_")
    client = client_package.AuthenticatedClient(base_url=served.url, token=registered.key)

    resources = SimpleNamespace(
        **{
            name: api(f"resources.{name}")
            for name in ("create_resource", "list_resources", "get_resource", "patch_resource",
                         "delete_resource")
        }
    )  # fmt: skip
    made = [
        resources.create_resource.sync(
            client=client,
            body=models.ResourceInput(name=name, category=category),
        )
        for name, category in (("beta", "docs"), ("alpha", "docs"), ("gamma", "tools"))
    ]
    page = resources.list_resources.sync(
        client=client,
        category="docs",
        sort=models.ResourceSort.NAME,
        order=models.SortOrder.ASC,
        limit=1,
    )
    assert [r.name for r in page.data] == ["alpha"]
    assert page.pagination.total == 2 and page.pagination.has_next
    found = resources.list_resources.sync(client=client, search="amm")
    assert [r.name for r in found.data] == ["gamma"]

    one = resources.get_resource.sync(made[0].id, client=client)
    assert one.name == "beta"
    patched = resources.patch_resource.sync(
        made[0].id, client=client, body=models.ResourcePatchInput(name="beta 2")
    )
    assert patched.name == "beta 2"
    assert resources.delete_resource.sync_detailed(made[0].id, client=client).status_code == 204
    gone = resources.get_resource.sync_detailed(made[0].id, client=client)
    assert gone.status_code == 404
