"""Throughput while a transaction is held open elsewhere on the database server (#18).

    uv run python bench/longtx.py --url http://127.0.0.1:8100 --db postgresql://.../kg \\
        --api-key rk_... --hold-db postgresql://.../bench_longtx_hold \\
        [--scenario get-one] [--slice 15] [--baseline-runs 3] [--hold-minutes 5]

1. baseline: --baseline-runs runs of --slice seconds of the scenario (wrk as in run.py);
2. held: `BEGIN; SELECT txid_current();` is opened in --hold-db (another database on the
   same server: its xid holds back every database's pruning horizon) and the same load
   runs in consecutive slices for --hold-minutes;
3. the transaction is rolled back and one more slice runs (recovery).

Prints req/s per slice and the ratios held/baseline (median of the held slices, and of
the last minute's). Then VACUUM ANALYZE on --db, so the next sitting starts clean (this
machine's PostgreSQL runs with autovacuum off).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from pathlib import Path

import psycopg
from run import SCENARIOS, Target, prepare, require_wrk, run_wrk


def hold(url: str) -> psycopg.Connection:
    conn = psycopg.connect(url)
    (xid,) = conn.execute("SELECT txid_current()").fetchone()  # type: ignore[misc]
    print(f"holding xid {xid} open in {url.rsplit('/', 1)[-1]}", flush=True)
    return conn


def line(label: str, r: dict[str, float]) -> str:
    return (
        f"{label:<22} {r['rps']:>9.1f} req/s  p50 {r['p50_ms']:7.2f} ms  "
        f"p99 {r['p99_ms']:7.2f} ms  non-2xx {int(r['non2xx'])}"
    )


def held_slices(
    target: Target, args: argparse.Namespace, knobs: argparse.Namespace
) -> list[tuple[float, float]]:
    """(seconds since the hold began, req/s) of each slice run while it is held."""
    held: list[tuple[float, float]] = []
    conn = hold(args.hold_db)
    start = time.monotonic()
    try:
        while (elapsed := time.monotonic() - start) < args.hold_minutes * 60:
            r = run_wrk(target, args.scenario, args.slice, knobs)
            held.append((elapsed + args.slice, r["rps"]))
            print(line(f"held t={elapsed + args.slice:5.0f}s", r), flush=True)
    finally:
        conn.rollback()
        conn.close()
    return held


def summary(
    baseline: float, base: list[float], held: list[tuple[float, float]], after: float
) -> None:
    rates = [v for _, v in held]
    last = [v for t, v in held if t > held[-1][0] - 60]
    print(
        f"\nbaseline median {baseline:.1f} req/s (runs {', '.join(f'{v:.0f}' for v in base)})\n"
        f"held median {statistics.median(rates):.1f} req/s: "
        f"{statistics.median(rates) / baseline:.2f}x baseline\n"
        f"held, last minute median {statistics.median(last):.1f} req/s: "
        f"{statistics.median(last) / baseline:.2f}x baseline\n"
        f"lowest held slice {min(rates):.1f} req/s: {min(rates) / baseline:.2f}x\n"
        f"after release {after:.1f} req/s: {after / baseline:.2f}x"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:8100")
    p.add_argument("--db", required=True)
    p.add_argument("--api-key", required=True)
    p.add_argument("--hold-db", required=True, help="another database on the same server")
    p.add_argument("--scenario", default="get-one", choices=sorted(SCENARIOS))
    p.add_argument("--slice", type=int, default=15, help="seconds per wrk run (max 15)")
    p.add_argument("--baseline-runs", type=int, default=3)
    p.add_argument("--hold-minutes", type=float, default=5)
    p.add_argument("--no-vacuum", action="store_true")
    args = p.parse_args()
    if args.slice > 15:
        p.error("--slice is capped at 15 s on this shared machine")
    require_wrk()
    knobs = argparse.Namespace(
        threads=2, connections=32, rate_limit=1_000_000_000, key_per_scenario=True
    )
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"keygate-longtx-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    target = Target("keygate", args.url, args.db, args.api_key)
    prepare(target, [args.scenario], knobs, workdir)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(
        f"date={time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} scenario={args.scenario} "
        f"slice={args.slice}s hold={args.hold_minutes} min; load average {load}"
    )
    run_wrk(target, args.scenario, 3, knobs)  # warm-up
    base = []
    for i in range(args.baseline_runs):
        r = run_wrk(target, args.scenario, args.slice, knobs)
        base.append(r["rps"])
        print(line(f"baseline {i + 1}", r), flush=True)

    held = held_slices(target, args, knobs)
    after = run_wrk(target, args.scenario, args.slice, knobs)
    print(line("released", after), flush=True)
    summary(statistics.median(base), base, held, after["rps"])
    if not args.no_vacuum:
        with psycopg.connect(args.db, autocommit=True) as vac:
            vac.execute("VACUUM ANALYZE")
        print("VACUUM ANALYZE done")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
