"""Database ceiling: replay with pgbench the SQL one request of each scenario sends.

    uv run python bench/ceiling.py --db postgresql://postgres@127.0.0.1:5432/kg \\
        [--scenarios list,get-one] [--clients 16] [--duration 10] [--http results.json]

Each scenario runs bench/pgbench/<scenario>.sql (mixed: list/get-one/create/update
weighted 40/40/10/10) with 16 clients and prepared statements, and prints
transactions/s: what PostgreSQL alone does for that request mix on this machine.
With --http (a `run.py --out` file) it also prints HTTP req/s as a fraction of it.
create/update write to resources: run them on a benchmark database only.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg

SQL_DIR = Path(__file__).resolve().parent / "pgbench"
SCRIPTS = {
    "health": ["health.sql"],
    "auth-404": ["auth_404.sql"],
    "list": ["list.sql"],
    "list-search": ["list_search.sql"],
    "list-cursor-deep": ["list_cursor_deep.sql"],
    "get-one": ["get_one.sql"],
    "create": ["create.sql"],
    "update": ["update.sql"],
    "mixed": ["list.sql@40", "get_one.sql@40", "create.sql@10", "update.sql@10"],
}
DEFAULT = "auth-404,list,list-search,list-cursor-deep,get-one,create,update,mixed"


def pgbench(db: str, files: list[str], args: argparse.Namespace, defs: dict[str, int]) -> dict:
    cmd = ["pgbench", "-n", "-M", "prepared", f"-c{args.clients}", f"-j{args.jobs}"]
    cmd += [f"-T{args.duration}"]
    for k, v in defs.items():
        cmd += ["-D", f"{k}={v}"]
    for f in files:
        cmd += ["-f", str(SQL_DIR / f)]
    out = subprocess.run([*cmd, db], capture_output=True, text=True, timeout=args.duration + 120)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out.stdout)
    lat = re.search(r"latency average = ([\d.]+) ms", out.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    if out.returncode != 0 or not tps:
        sys.exit(f"ceiling: pgbench failed:\n{out.stdout}\n{out.stderr}")
    return {
        "tps": float(tps.group(1)),
        "latency_ms": float(lat.group(1)) if lat else 0.0,
        "failed": int(failed.group(1)) if failed else 0,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", required=True)
    p.add_argument("--scenarios", default=DEFAULT, help=f"comma list of {list(SCRIPTS)}")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--jobs", type=int, default=2, help="pgbench threads")
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--http", help="results JSON from run.py --out")
    p.add_argument("--label", help="which server in the --http file (default: the first)")
    args = p.parse_args()
    if shutil.which("pgbench") is None:
        sys.exit("ceiling: pgbench not found (apt-get install -y postgresql-client)")
    if args.duration > 15:
        sys.exit("ceiling: --duration is capped at 15 s on this shared machine")

    with psycopg.connect(args.db) as conn:
        (maxid,) = conn.execute("SELECT coalesce(max(id), 1) FROM resources").fetchone()
        row = conn.execute(
            "SELECT id FROM resources ORDER BY created_at DESC, id DESC OFFSET 9980 LIMIT 1"
        ).fetchone()
    defs = {"maxid": maxid, "deep_id": row[0] if row else 1}

    http: dict = {}
    if args.http:
        data = json.loads(Path(args.http).read_text())
        http = data[args.label] if args.label else next(iter(data.values()))

    print(f"pgbench -c{args.clients} -j{args.jobs} -T{args.duration} -M prepared; {defs}")
    print(
        f"{'scenario':<17} {'pg tx/s':>9} {'pg lat ms':>9} {'failed':>7} {'http req/s':>10} "
        f"{'http/pg':>8}"
    )
    for sc in [s.strip() for s in args.scenarios.split(",") if s.strip()]:
        r = pgbench(args.db, SCRIPTS[sc], args, defs)
        h = http.get(sc, {}).get("rps")
        frac = f"{h / r['tps']:.2f}" if h else "-"
        hs = f"{h:.1f}" if h else "-"
        print(
            f"{sc:<17} {r['tps']:>9.1f} {r['latency_ms']:>9.2f} {r['failed']:>7} {hs:>10} "
            f"{frac:>8}",
            flush=True,
        )


if __name__ == "__main__":
    main()
