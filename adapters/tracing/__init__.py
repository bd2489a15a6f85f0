"""OpenTelemetry tracing: a server span per request and a child span per SQL statement,
exported by OTLP. Nothing here is imported unless OTEL_EXPORTER_OTLP_ENDPOINT is set
(entrypoints/container/observability.py): tracing off costs nothing."""
