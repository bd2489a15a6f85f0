"""Fuzz the running API against its own generated document (/api/docs).

A real server on 127.0.0.1 (uvicorn in a thread) over the test database. Every
operation gets a bounded number of generated requests, schema-valid ones (positive)
and schema-violating ones (negative), each with a plain read/write key and with an
admin key. No response may be a 5xx or contradict the document (status code, content
type, body schema); every schema-valid request must be accepted and every
schema-violating one refused. The document must therefore state every rule the
server enforces (entrypoints/http/openapi.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from entrypoints.container import build_container
from entrypoints.http.app import create_asgi
from entrypoints.settings import Settings
from tests.support.keys import bearer, issue
from tests.support.threaded import served

EXAMPLES_PER_RUN = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance,
    negative_data_rejection,
]
# Valid data the server may still refuse for the state it meets, not for its shape:
# a stale If-Match (412), an Idempotency-Key already used with another body (422), and
# schemathesis's own list (no key, not allowed, no such id, conflicting state, limited).
ACCEPTED_WHEN_VALID = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429"]
ROLES = {"user": ("read", "write"), "admin": ("read", "write", "admin")}
Auth = dict[str, str]


@dataclass(frozen=True)
class Server:
    base_url: str
    new_key: Callable[[str], Auth]


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    async def issued(role: str) -> Auth:
        key = await issue(build_container(settings), "fuzz-" + role, ROLES[role], 1_000_000)
        return bearer(key)

    with served(create_asgi(build_container(settings))) as base_url:
        # A fresh key for every run: a DELETE or rotate the fuzzer sends may revoke one.
        yield Server(base_url, lambda role: asyncio.run(issued(role)))


def without_forged_cursor(case: schemathesis.Case) -> None:
    """A valid cursor is one the server issued, which no schema can generate: positive
    runs send none (tests/http/test_resources.py and test_keys.py walk real ones)."""
    if case.query and "cursor" in case.query:
        del case.query["cursor"]


def integers_written_as_integers(value: object) -> object:
    """JSON Schema counts 5000.0 as an integer; keygate, like msgspec, wants 5000 (the
    document says so in words). Positive bodies are sent as a JSON encoder that keeps
    ints and floats apart writes them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [integers_written_as_integers(v) for v in value]
    if isinstance(value, dict):
        return {k: integers_written_as_integers(v) for k, v in value.items()}
    return value


def expiry_in_the_allowed_window(case: schemathesis.Case) -> None:
    """A key's expiresAt must lie in the future and at most ten years ahead: the
    document says so in words, since JSON Schema cannot compare a time with the
    clock. A client sends such a time; so do the positive runs."""
    if isinstance(case.body, dict) and isinstance(case.body.get("expiresAt"), str):
        case.body["expiresAt"] = (datetime.now(UTC) + timedelta(days=30)).isoformat()


def usage_range_in_the_allowed_window(case: schemathesis.Case) -> None:
    """A usage range's `from` and `to` lie within 400 days of now and in that order:
    said in words too, for the same reason."""
    if isinstance(case.query, dict) and ({"from", "to"} & case.query.keys()):
        now = datetime.now(UTC)
        if "from" in case.query:
            case.query["from"] = (now - timedelta(days=2)).isoformat()
        if "to" in case.query:
            case.query["to"] = (now - timedelta(days=1)).isoformat()


def as_a_client_would_send(case: schemathesis.Case) -> None:
    without_forged_cursor(case)
    expiry_in_the_allowed_window(case)
    usage_range_in_the_allowed_window(case)
    if isinstance(case.body, (dict, list, float)):
        case.body = integers_written_as_integers(case.body)


def run_operation(
    operation: schemathesis.APIOperation, mode: GenerationMode, base_url: str, keys: list[Auth]
) -> None:
    """One run: each generated request goes with a plain or an admin key."""
    cases = st.sampled_from(keys).flatmap(
        lambda auth: operation.as_strategy(generation_mode=mode, headers=auth)
    )

    @settings(
        max_examples=EXAMPLES_PER_RUN,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def run(case: schemathesis.Case) -> None:
        if mode is GenerationMode.POSITIVE:
            as_a_client_would_send(case)
        response = case.call(base_url=base_url, timeout=10)
        case.validate_response(response, checks=CHECKS)

    run()


def test_api_conforms_to_its_openapi_document(server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base_url}/api/docs")
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=ACCEPTED_WHEN_VALID
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(op.path == "/api/v1/resources/{resource_id}" for op in operations)
    failures = []
    for operation in operations:
        # An operation without parameters or body (health) has nothing to negate.
        negatable = any(operation.iter_parameters()) or bool(operation.body)
        modes = [GenerationMode.POSITIVE] + [GenerationMode.NEGATIVE] * negatable
        for mode in modes:
            keys = [server.new_key(role) for role in ROLES]
            try:
                run_operation(operation, mode, server.base_url, keys)
            except (AssertionError, BaseExceptionGroup) as exc:  # Failure, FailureGroup
                failures.append(f"{operation.label} ({mode.value} data):\n{exc}")
    assert not failures, "\n\n".join(failures)
