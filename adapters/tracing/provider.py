"""The OpenTelemetry SDK's provider, exporting by OTLP over HTTP where the standard
OTEL_EXPORTER_OTLP_* variables say (the exporter reads them itself)."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def otlp_provider(service_name: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    # Batched, on the SDK's own thread: a request never waits on the collector.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider
