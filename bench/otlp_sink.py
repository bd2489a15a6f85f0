"""A stand-in OpenTelemetry collector for the tracing A/B: accepts OTLP/HTTP trace
exports (POST /v1/traces), answers 200 with an empty ExportTraceServiceResponse and
counts what it got, so the server under test pays the whole cost of exporting.

    uv run python bench/otlp_sink.py --port 4318   # then OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318

Loopback only. Prints the requests and bytes received when stopped (Ctrl-C / SIGTERM).
"""

from __future__ import annotations

import argparse
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

received = {"requests": 0, "bytes": 0}


class Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received["bytes"] += len(self.rfile.read(length))
        received["requests"] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=4318)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Sink)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        print(f"otlp sink: {received['requests']} exports, {received['bytes']} bytes", flush=True)


if __name__ == "__main__":
    main()
