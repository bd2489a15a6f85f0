"""The spans: one per HTTP request (named `{method} {route}` once the route is known,
a W3C traceparent from the client continued), and one per SQL statement run inside it.
Only the OpenTelemetry API is used here; the provider handed in decides where spans go
(OTLP, or the SDK's in-memory exporter in tests)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from psycopg import AsyncCursor

_PROPAGATOR = TraceContextTextMapPropagator()
PROPAGATED = (b"traceparent", b"tracestate")


class ServerSpan:
    __slots__ = ("_method", "_span", "trace_id")

    def __init__(self, span: trace.Span, method: str) -> None:
        self._span = span
        self._method = method
        self.trace_id = format(span.get_span_context().trace_id, "032x")

    def finish(self, route: str, status: int) -> None:
        span = self._span
        span.update_name(f"{self._method} {route}" if route else self._method)
        if route:
            span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))


class RequestTracing:
    def __init__(self, provider: TracerProvider) -> None:
        self._tracer = provider.get_tracer("keygate")

    @contextlib.contextmanager
    def server_span(
        self, method: str, path: str, headers: Mapping[bytes, bytes]
    ) -> Iterator[ServerSpan]:
        carrier = {k.decode(): headers[k].decode("latin-1") for k in PROPAGATED if k in headers}
        parent = _PROPAGATOR.extract(carrier) if carrier else None
        with self._tracer.start_as_current_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
        ) as span:
            yield ServerSpan(span, method)

    def cursor_factory(self) -> type[AsyncCursor[Any]]:
        """A cursor class whose statements are spans, for the pool's connections."""
        tracer = self._tracer

        class TracedCursor(AsyncCursor[Any]):
            async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                with _statement(tracer, query):
                    return await super().execute(query, params, **kwargs)

            async def executemany(
                self, query: Any, params_seq: Iterable[Any], **kwargs: Any
            ) -> None:
                with _statement(tracer, query):
                    await super().executemany(query, params_seq, **kwargs)

            @contextlib.asynccontextmanager
            async def copy(
                self, statement: Any, params: Any = None, **kwargs: Any
            ) -> AsyncIterator[Any]:
                with _statement(tracer, statement):
                    async with super().copy(statement, params, **kwargs) as copy:
                        yield copy

        return TracedCursor


@contextlib.contextmanager
def _statement(tracer: trace.Tracer, query: Any) -> Iterator[None]:
    # Background work (log flushes, the dispatcher) runs outside any request: its
    # statements would each be a trace of their own, so they are none.
    if not trace.get_current_span().is_recording():
        yield
        return
    text = (
        query
        if isinstance(query, str)
        else bytes(query).decode()
        if isinstance(query, bytes)
        else str(query)
    )
    operation = text.lstrip().split(None, 1)[0].upper() if text.strip() else "SQL"
    with tracer.start_as_current_span(
        operation,
        kind=SpanKind.CLIENT,
        attributes={
            "db.system.name": "postgresql",
            "db.operation.name": operation,
            "db.query.text": text,
        },
    ):
        yield
