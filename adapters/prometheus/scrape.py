"""The scrape: one process's registry, or, under `serve`, every worker's values added
up from the multi-process directory `serve` made for them.

`serve` makes a fresh directory per run (values of an earlier run must not count) and
hands it to its workers in PROMETHEUS_MULTIPROC_DIR. Counters of a worker that died
stay (a restart must not make a rate negative); its live gauges (active requests,
buffered rows, pool) are forgotten at the next scrape, or the scrape would add a dead
process's last levels forever.
"""

from __future__ import annotations

import contextlib
import glob
import hmac
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from adapters.embedded import alive

ENV = "PROMETHEUS_MULTIPROC_DIR"
LIVE_GAUGE = re.compile(r"gauge_live[a-z]+_(\d+)\.db$")


def multiprocess_dir() -> str | None:
    return os.environ.get(ENV) or None


def exposition(registry: CollectorRegistry | None) -> tuple[bytes, str]:
    """The scrape's body and content type: the workers' values when there is a
    multi-process directory, else `registry`'s (one process, or tests)."""
    path = multiprocess_dir()
    if path is not None:
        registry = CollectorRegistry()
        forget_dead_workers(path)
        MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    assert registry is not None, "a registry, or a multi-process directory"
    return generate_latest(registry), CONTENT_TYPE_LATEST


def forget_dead_workers(path: str) -> None:
    for pid in {
        int(m[1])
        for f in glob.glob(os.path.join(path, "gauge_live*.db"))
        if (m := LIVE_GAUGE.search(f))
    }:
        if not alive(pid):
            mark_process_dead(pid, path)  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def worker_directory() -> Iterator[str]:
    """A fresh multi-process directory for the workers of one `serve`, removed after."""
    path = tempfile.mkdtemp(prefix="keygate-metrics-")
    previous = os.environ.get(ENV)
    os.environ[ENV] = path
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        shutil.rmtree(path, ignore_errors=True)


def authorized(authorization: bytes | None, token: str | None) -> bool:
    """METRICS_TOKEN as a Bearer token (compared in constant time); no token, no check."""
    if token is None:
        return True
    expected = b"Bearer " + token.encode()
    return authorization is not None and hmac.compare_digest(authorization, expected)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def metrics_server(host: str, port: int, token: str | None) -> Iterator[int]:
    """GET /metrics on a port of its own (METRICS_PORT), served by `serve`'s own process
    from the workers' directory while they run; yields the bound port."""

    def app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        supplied = environ.get("HTTP_AUTHORIZATION")
        if not authorized(supplied.encode("latin-1") if supplied else None, token):
            start("401 Unauthorized", [("Content-Type", "text/plain")])
            return [b"unauthorized\n"]
        body, content_type = exposition(None)
        start("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    server = make_server(host, port, app, ThreadingWSGIServer, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
