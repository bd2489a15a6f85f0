"""An ASGI app served over real HTTP on 127.0.0.1 by uvicorn in a thread of the test:
for clients that need a socket (schemathesis, raw-byte fuzzing), without a process."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from tests.support.servers import free_port


@contextlib.contextmanager
def served(app: Any, start_within: float = 20) -> Iterator[str]:
    """The app's base URL while it runs (its lifespan included)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_within
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
