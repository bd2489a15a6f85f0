"""Fuzz the running API against its own generated document (/api/docs).

A real server on 127.0.0.1 (uvicorn in a thread) over the test database; every
operation gets a bounded number of generated requests, and no response may be a
5xx or contradict the document (status code, content type, body schema).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.keys import bearer, issue
from tests.support.servers import free_port

EXAMPLES_PER_OPERATION = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, dict[str, str]]]:
    container = build_container(settings)
    port = free_port()
    config = uvicorn.Config(
        create_asgi(container), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)

    async def admin_key() -> dict[str, str]:
        other = build_container(settings)
        await other.pool().open(wait=True)
        try:
            key = await issue(other, "fuzzer", ("read", "write", "admin"), rate_limit=1_000_000)
        finally:
            await other.pool().close()
        return bearer(key)

    try:
        yield f"http://127.0.0.1:{port}", asyncio.run(admin_key())
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def test_api_conforms_to_its_openapi_document(server: tuple[str, dict[str, str]]) -> None:
    base_url, auth = server
    schema = schemathesis.openapi.from_url(f"{base_url}/api/docs")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(op.path == "/api/v1/resources/{resource_id}" for op in operations)
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=base_url, headers=auth, timeout=10)
            case.validate_response(response, checks=CHECKS)

        run()
