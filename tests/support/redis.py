"""Redis for tests: the machine's server (database 15, a key prefix of each test's own,
removed afterwards), redis-server processes of a test's own, to stop and start, and a
Redis Cluster of a test's own."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from tests.support.servers import free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@contextmanager
def redis_prefix(url: str = REDIS_URL) -> Iterator[str]:
    """A key prefix nobody else uses; every key under it is deleted at the end."""
    prefix = f"keygate-test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        with redis.Redis.from_url(url) as client:
            for key in client.scan_iter(match=f"{prefix}:*", count=1000):
                client.delete(key)


class RedisServer:
    """A redis-server of a test's own on a free port, with nothing persisted (so a
    restart loses every counter: the worst case the README describes)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="keygate-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self._dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for_ping(self.port)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


class RedisCluster:
    """A Redis Cluster of three primaries of a test's own (no replicas), for the store's
    cluster path: subjects land on different nodes, each subject's keys in one slot."""

    def __init__(self, nodes: int = 3) -> None:
        self._dir = tempfile.mkdtemp(prefix="keygate-redis-cluster-")
        self.ports = [_cluster_port() for _ in range(nodes)]
        self.url = f"redis://127.0.0.1:{self.ports[0]}/0"
        self._processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for port in self.ports:
            folder = os.path.join(self._dir, str(port))
            os.mkdir(folder)
            command = [
                "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", folder, "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
            ]  # fmt: skip
            quiet = subprocess.DEVNULL
            self._processes.append(subprocess.Popen(command, stdout=quiet, stderr=quiet))
        for port in self.ports:
            _wait_for_ping(port)
        addresses = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(
            ["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas", "0",
             "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        with redis.Redis(port=self.ports[0]) as client:
            for _ in range(500):
                if client.cluster("info")["cluster_state"] == "ok":
                    return
                time.sleep(0.02)
        raise RuntimeError("the test's Redis Cluster did not come up")

    def close(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.wait(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)


def _cluster_port() -> int:
    """A free port whose cluster-bus port (port + 10000) is free too."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 40000)
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


def _wait_for_ping(port: int) -> None:
    with redis.Redis(port=port) as client:
        for _ in range(500):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.01)
    raise RuntimeError(f"redis-server on {port} did not start")


@contextmanager
def redis_cluster() -> Iterator[RedisCluster]:
    cluster = RedisCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()
