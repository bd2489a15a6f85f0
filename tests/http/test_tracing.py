"""Tracing, on the SDK's in-memory exporter: a server span `{method} {route}` per
request with a child span per SQL statement, a client's traceparent continued, and the
trace id beside the request id in a 500's body and in the JSON log line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from dependency_injector import providers
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from entrypoints.container import Container
from entrypoints.container.observability import observability_of
from entrypoints.http.app import create_asgi
from entrypoints.logs import JsonFormatter
from tests.support.clients import Client
from tests.support.keys import bearer, issue
from tests.support.servers import ROOT

RESOURCE = "/api/v1/resources/{resource_id}"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


class Exploding:
    async def __call__(self, *_: Any) -> Any:
        raise RuntimeError("boom")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


@pytest.fixture
async def traced(container: Container, spans: InMemorySpanExporter) -> AsyncIterator[Client]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    observability = observability_of(container.settings(), tracer_provider=provider)
    container.observability.override(providers.Object(observability))
    async with Client(app=create_asgi(container), raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        yield client


def server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]


def children(exporter: InMemorySpanExporter, parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [
        s
        for s in exporter.get_finished_spans()
        if s.parent is not None and s.parent.span_id == parent.context.span_id
    ]


async def test_a_request_is_a_server_span_named_by_its_route_with_sql_spans_inside(
    traced: Client, container: Container, spans: InMemorySpanExporter
) -> None:
    key = await issue(container)
    spans.clear()
    response = await traced.get("/api/v1/resources/12345", headers=bearer(key))
    assert response.status_code == 404
    [server] = server_spans(spans)
    assert server.name == f"GET {RESOURCE}"
    assert server.attributes is not None
    assert server.attributes["http.route"] == RESOURCE
    assert server.attributes["http.response.status_code"] == 404
    statements = children(spans, server)
    assert statements, "no SQL span under the request"
    assert {s.kind for s in statements} == {SpanKind.CLIENT}
    assert all(s.attributes and s.attributes["db.system.name"] == "postgresql" for s in statements)
    assert any(s.name == "SELECT" for s in statements)
    assert all("12345" not in s.name for s in spans.get_finished_spans())


async def test_a_refused_request_is_named_by_its_route_too(
    traced: Client, spans: InMemorySpanExporter
) -> None:
    assert (await traced.get("/api/v1/resources/7")).status_code == 401
    [server] = server_spans(spans)
    assert server.name == f"GET {RESOURCE}"


async def test_a_clients_traceparent_is_continued(
    traced: Client, spans: InMemorySpanExporter
) -> None:
    parent = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
    assert (await traced.get("/api/health", headers={"traceparent": parent})).status_code == 200
    [server] = server_spans(spans)
    assert server.context is not None
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert server.name == "GET /api/health"


async def test_a_500_carries_the_trace_id_in_its_body_and_its_json_log_line(
    traced: Client,
    container: Container,
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    issued = await issue(container)
    with (
        container.key_usage.override(providers.Object(Exploding())),
        caplog.at_level(logging.ERROR),
    ):
        response = await traced.get(f"/api/keys/{issued.key.id}/usage", headers=bearer(issued))
    assert response.status_code == 500
    body = response.json()
    [server] = server_spans(spans)
    assert server.context is not None
    assert body["traceId"] == format(server.context.trace_id, "032x")
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    text = JsonFormatter().format(record)
    assert "\n" not in text  # one line, the traceback included
    line = json.loads(text)
    assert (line["requestId"], line["traceId"]) == (body["requestId"], body["traceId"])
    assert (line["level"], line["logger"]) == ("ERROR", "keygate.http")
    assert line["exception"].startswith("Traceback")


async def test_without_tracing_a_500_has_no_trace_id(client: Client, container: Container) -> None:
    issued = await issue(container)
    with container.key_usage.override(providers.Object(Exploding())):
        response = await client.get(f"/api/keys/{issued.key.id}/usage", headers=bearer(issued))
    assert response.status_code == 500
    assert set(response.json()) == {"error", "requestId"}


def test_with_tracing_off_no_tracing_module_is_loaded(db: str) -> None:
    script = (
        "import sys\n"
        "from entrypoints.container import build_container\n"
        "from entrypoints.http.app import create_asgi\n"
        "from entrypoints.settings import Settings\n"
        f"create_asgi(build_container(Settings(database_url={db!r})))\n"
        # redis-py loads opentelemetry.sdk by itself when it is installed (its own
        # observability); what tracing would add is neither imported nor set up.
        "ours = ('adapters.tracing', 'opentelemetry.exporter', 'opentelemetry.sdk.trace')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(ours))\n"
        "assert not loaded, loaded\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=ROOT)
