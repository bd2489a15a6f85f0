"""CPU per request, by process: the server's worker processes and PostgreSQL's, each
divided by the requests one wrk run served, for one or more servers in interleaved
rounds (A B, B A, ...). CPU seconds drift far less with the machine's other load than
req/s do, so a change that makes a request cheaper shows here when throughput is noise.

    uv run python bench/cpu_per_request.py --api-key $KEY --db $KG --script get_one.lua \\
        --ports 8120,8121 --rounds 4
    uv run python bench/cpu_per_request.py --api-key $KEY --script get_path.lua \\
        --path '/api/resources?search=cloud&limit=20' --ports 8120,8121

A server's processes are those whose command line holds `--port PORT` (as `keygate
serve --port PORT` starts them); PostgreSQL's are every `postgres` process on the
machine, so keep other database work away during a run.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

import psycopg

LUA = Path(__file__).resolve().parent / "lua"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(port: int) -> tuple[float, float]:
    """(the server's processes, PostgreSQL's processes), user + system, so far."""
    server = database = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        used = (int(fields[11]) + int(fields[12])) / TICK
        if f"--port {port}" in cmd and not cmd.startswith("uv "):
            server += used
        elif cmd.startswith("postgres"):
            database += used
    return server, database


def one_run(port: int, args: argparse.Namespace, env: dict[str, str]) -> tuple[float, ...]:
    before = cpu_seconds(port)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "-s",
         str(LUA / args.script), f"http://127.0.0.1:{port}"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    after = cpu_seconds(port)
    served = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    if "Non-2xx" in out:
        print(f"  port {port}: {out.split('Non-2xx')[1].splitlines()[0].strip()} non-2xx")
    server, database = ((a - b) / served * 1e6 for a, b in zip(after, before, strict=True))
    return rate, server, database


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--ports", required=True, help="comma-separated, servers on 127.0.0.1")
    p.add_argument("--api-key", default="")
    p.add_argument("--db", help="where get_one/update/mixed draw resource ids from")
    p.add_argument("--script", default="get_one.lua", help="a script in bench/lua")
    p.add_argument("--path", default="/api/health", help="get_path.lua's path")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=8)
    p.add_argument("--connections", type=int, default=32)
    args = p.parse_args()
    ports = [int(x) for x in args.ports.split(",")]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as ids:
        if args.db:
            with psycopg.connect(args.db) as conn:
                sql = "SELECT id FROM resources ORDER BY random() LIMIT 20000"
                ids.writelines(f"{row[0]}\n" for row in conn.execute(sql))
    env = {**os.environ, "BENCH_LUA_DIR": str(LUA), "BENCH_KEY": args.api_key,
           "BENCH_PATH": args.path, "BENCH_IDS_FILE": ids.name}  # fmt: skip
    runs: dict[int, list[tuple[float, ...]]] = {port: [] for port in ports}
    for i in range(args.rounds):
        for port in ports if i % 2 == 0 else ports[::-1]:
            runs[port].append(one_run(port, args, env))
            rate, server, database = runs[port][-1]
            print(f"round {i + 1} port {port}: {rate:7.0f} req/s  server {server:5.0f} us/req"
                  f"  postgres {database:5.0f} us/req", flush=True)  # fmt: skip
    for port, results in runs.items():
        rate, server, database = (statistics.median(r[k] for r in results) for k in range(3))
        print(f"port {port}: median {rate:7.0f} req/s  server {server:5.0f} us/req"
              f"  postgres {database:5.0f} us/req")  # fmt: skip
    os.unlink(ids.name)


if __name__ == "__main__":
    main()
