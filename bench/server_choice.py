"""ASGI server choice: keygate under granian vs uvicorn with 1, 2 and 3 workers.

    uv run python bench/server_choice.py --db postgresql://postgres@127.0.0.1:5432/kg \\
        --api-key rk_... [--servers granian,uvicorn] [--workers 1,2,3] [--rounds 3]

For each round and each (server, workers) it starts `keygate serve` on --port, runs
the health and auth-404 scenarios (an unknown path with a valid key: authenticated,
quota-checked, 404), and stops it. Rounds are the outer loop, so slow drift on the
shared machine spreads over every configuration. Prints medians over the rounds.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import run  # bench/run.py, next to this file

ROOT = Path(__file__).resolve().parent.parent


def start(server: str, workers: int, args: argparse.Namespace) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": args.db, "KEYGATE_SERVER": server}
    env["WORKERS"] = str(workers)
    cmd = ["uv", "run", "--quiet", "keygate", "serve", "--port", str(args.port)]
    return subprocess.Popen(
        [*cmd, "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stopped as one below
    )


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", required=True)
    p.add_argument("--api-key", required=True)
    p.add_argument("--port", type=int, default=8101)
    p.add_argument("--servers", default="granian,uvicorn")
    p.add_argument("--workers", default="1,2,3")
    p.add_argument("--scenarios", default="health,auth-404")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=32)
    args = p.parse_args()
    run.require_wrk()
    servers = args.servers.split(",")
    workers = [int(w) for w in args.workers.split(",")]
    scenarios = args.scenarios.split(",")
    wrk_args = argparse.Namespace(threads=args.threads, connections=args.connections)
    results: dict[tuple[str, int, str], list[dict]] = {}
    for rnd in range(1, args.rounds + 1):
        for server in servers:
            for n in workers:
                proc = start(server, n, args)
                try:
                    t = run.Target(f"{server}x{n}", f"http://127.0.0.1:{args.port}", None, None)
                    t.host, t.port = run.check_loopback(t.url)
                    run.wait_healthy(t)
                    t.keys = dict.fromkeys(scenarios, args.api_key)
                    for sc in scenarios:
                        if args.warmup:
                            run.run_wrk(t, sc, args.warmup, wrk_args)
                        r = run.run_wrk(t, sc, args.duration, wrk_args)
                        results.setdefault((server, n, sc), []).append(r)
                        print(
                            f"round {rnd} {server:<8} workers={n} {sc:<9} {r['rps']:>8.1f} req/s"
                            f"  p99 {r['p99_ms']:.2f} ms  non-2xx {int(r['non2xx'])}"
                            f"  sock-err {int(r['sockerr'])}",
                            flush=True,
                        )
                finally:
                    stop(proc)
                time.sleep(1)
    print(
        f"\nmedians of {args.rounds} runs x {args.duration} s, wrk -t{args.threads} "
        f"-c{args.connections} (auth-404 answers are 404 by design)"
    )
    print(f"{'server':<8} {'workers':>7} {'scenario':<9} {'req/s':>8} {'p99 ms':>8} runs req/s")
    for (server, n, sc), rs in results.items():
        rps = statistics.median(r["rps"] for r in rs)
        p99 = statistics.median(r["p99_ms"] for r in rs)
        runs = " ".join(f"{r['rps']:.0f}" for r in rs)
        print(f"{server:<8} {n:>7} {sc:<9} {rps:>8.1f} {p99:>8.2f} {runs:<30}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
