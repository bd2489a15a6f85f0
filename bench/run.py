"""HTTP load benchmark: wrk scenarios against any server speaking the keygate contract.

    uv run python bench/run.py --url http://127.0.0.1:8100 --db postgresql://.../kg \\
        --api-key rk_... [--vs http://127.0.0.1:3101 --vs-db postgresql://.../seedref] \\
        [--scenarios health,list,get-one] [--duration 10] [--repeat 3] [--out results.json]

Per scenario: req/s, p50, p99 (ms), non-2xx and socket errors; with --repeat R the
median of R runs (errors summed). With --vs the same scenarios run against server B
right after A (interleaved, scenario by scenario) and B/A ratios are printed.
Only loopback targets. Only ratios from one sitting mean anything (see README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import ipaddress
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
LIST_PATH = "/api/resources?page=3&limit=20&category=cat-7&sort=name&order=asc"
SEARCH_WORD = "cloud"  # in about a third of the generated rows (bench/generate.py)
DEEP_PAGES = 500
UNKNOWN_PATH = "/api/bench-unknown"  # authenticated + quota-checked + 404 on keygate
# scenario -> (lua script, needs a key, needs ids)
SCENARIOS = {
    "health": ("get_path.lua", False, False),
    "auth-404": ("get_path.lua", True, False),
    "list": ("get_path.lua", True, False),
    "list-search": ("get_path.lua", True, False),
    "list-cursor-deep": ("get_path.lua", True, False),
    "get-one": ("get_one.lua", True, True),
    "create": ("create.lua", True, False),
    "update": ("update.lua", True, True),
    "mixed": ("mixed.lua", True, True),
}
DEFAULT_SCENARIOS = "health,list,list-search,list-cursor-deep,get-one,create,update,mixed"


def die(msg: str, code: int = 1) -> None:
    print(f"run.py: {msg}", file=sys.stderr)
    sys.exit(code)


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        die("wrk not found. Install it from Debian: sudo apt-get install -y wrk", 2)


def check_loopback(url: str) -> tuple[str, int]:
    u = urllib.parse.urlsplit(url)
    host = u.hostname or ""
    if u.scheme != "http":
        die(f"only http:// targets, got {url!r}", 2)
    if host != "localhost":
        try:
            if not ipaddress.ip_address(host).is_loopback:
                raise ValueError
        except ValueError:
            die(f"refusing non-loopback target {host!r}", 2)
    return host, u.port or 80


@dataclass
class Target:
    label: str
    url: str
    db: str | None
    api_key: str | None
    host: str = ""
    port: int = 0
    ids_file: str = ""
    deep_path: str = ""
    keys: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def request(self, method: str, path: str, body: dict | None = None, key: str | None = None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, None

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        assert self.db
        with psycopg.connect(self.db, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []


def wait_healthy(t: Target, seconds: int = 30) -> None:
    for _ in range(seconds):
        try:
            if t.request("GET", "/api/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(1)
    die(f"{t.url}/api/health did not answer 200 within {seconds} s")


def raise_limit(t: Target, key: str, limit: int) -> None:
    if not t.db:
        return
    digest = hashlib.sha256(key.encode()).hexdigest()
    rows = t.sql(
        "UPDATE api_keys SET rate_limit = %s WHERE key_hash = %s RETURNING id", (limit, digest)
    )
    if not rows:
        print(f"WARNING [{t.label}]: no api_keys row for the key; rate limit not raised")
    time.sleep(0.2)  # keygate's key cache hears of the change through NOTIFY


def register(t: Target, name: str, parent: str | None, limit: int) -> str | None:
    body = {"name": name, "permissions": ["read", "write"]}
    status, resp = t.request("POST", "/api/auth/register", body, parent)
    if status not in (200, 201) or not isinstance(resp, dict) or not resp.get("key"):
        return None
    raise_limit(t, resp["key"], limit)
    return resp["key"]


def prepare(t: Target, scenarios: list[str], args: argparse.Namespace, workdir: Path) -> None:
    """Keys, resource ids and the deep-cursor path for one server."""
    t.host, t.port = check_loopback(t.url)
    wait_healthy(t)
    master = t.api_key or register(t, "bench-master", None, args.rate_limit)
    if master is None:
        t.notes.append("no API key (give --api-key): authenticated scenarios will be 401s")
        master = ""
    for sc in scenarios:
        if not SCENARIOS[sc][1]:
            continue
        key = None
        if args.key_per_scenario and master:
            key = register(t, f"bench-{sc}", master, args.rate_limit)
            if key is None and "fresh keys" not in " ".join(t.notes):
                t.notes.append("register failed: every scenario uses the given key (no fresh keys)")
        t.keys[sc] = key or master
    # Resource ids for get-one / update / mixed: from the database, else from the API.
    ids: list[int] = []
    if t.db:
        ids = [r[0] for r in t.sql("SELECT id FROM resources ORDER BY random() LIMIT 20000")]
    elif master:
        status, body = t.request("GET", "/api/resources?limit=100", key=master)
        if status == 200 and isinstance(body, dict):
            ids = [r["id"] for r in body.get("data", [])]
    if not ids and any(SCENARIOS[s][2] for s in scenarios):
        t.notes.append("no resource ids found: get-one/update/mixed hit id 1")
    t.ids_file = str(workdir / f"ids-{t.port}.txt")
    Path(t.ids_file).write_text("".join(f"{i}\n" for i in ids))
    if "list-cursor-deep" in scenarios:
        t.deep_path = deep_cursor_path(t, t.keys.get("list-cursor-deep", master))


def deep_cursor_path(t: Target, key: str) -> str:
    """Follow nextCursor to page DEEP_PAGES; servers without cursors get ?page=DEEP_PAGES."""
    path = "/api/resources?limit=20"
    for page in range(1, DEEP_PAGES):
        status, body = t.request("GET", path, key=key)
        cursor = ((body or {}).get("pagination") or {}).get("nextCursor") if status == 200 else None
        if not cursor:
            if page == 1:
                t.notes.append(f"no nextCursor (HTTP {status}): list-cursor-deep uses ?page=500")
                return f"/api/resources?page={DEEP_PAGES}&limit=20"
            t.notes.append(f"cursor chain ended at page {page}")
            break
        path = "/api/resources?limit=20&cursor=" + urllib.parse.quote(cursor, safe="")
    return path


def scenario_path(t: Target, sc: str) -> str:
    return {
        "health": "/api/health",
        "auth-404": UNKNOWN_PATH,
        "list": LIST_PATH,
        "list-search": f"/api/resources?search={SEARCH_WORD}&limit=20",
        "list-cursor-deep": t.deep_path,
    }.get(sc, "/")


def run_wrk(t: Target, sc: str, seconds: int, args: argparse.Namespace) -> dict[str, float]:
    script, needs_key, _ = SCENARIOS[sc]
    env = {
        **os.environ,
        "BENCH_LUA_DIR": str(HERE / "lua"),
        "BENCH_KEY": t.keys.get(sc, "") if needs_key else "",
        "BENCH_PATH": scenario_path(t, sc),
        "BENCH_IDS_FILE": t.ids_file,
    }
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "10s"]
    cmd += ["-s", str(HERE / "lua" / script), t.url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return {k: float(v) for k, v in (kv.split("=", 1) for kv in line.split()[1:])}
    die(f"wrk gave no result for {sc} on {t.url}:\n{out.stdout}\n{out.stderr}")
    raise AssertionError


def measure(t: Target, sc: str, args: argparse.Namespace) -> dict[str, float]:
    runs = []
    for _ in range(args.repeat):
        if args.warmup:
            run_wrk(t, sc, args.warmup, args)
        runs.append(run_wrk(t, sc, args.duration, args))
        time.sleep(args.pause)
    result = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50_ms", "p99_ms")}
    result["non2xx"] = sum(r["non2xx"] for r in runs)
    result["sockerr"] = sum(r["sockerr"] for r in runs)
    result["requests"] = sum(r["requests"] for r in runs)
    result["rps_runs"] = [r["rps"] for r in runs]  # type: ignore[assignment]
    return result


def table(label: str, results: dict[str, dict]) -> str:
    lines = [
        f"== {label}",
        f"{'scenario':<17} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'sock-err':>8}",
    ]
    for sc, r in results.items():
        lines.append(
            f"{sc:<17} {r['rps']:>9.1f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}"
            f" {int(r['non2xx']):>8} {int(r['sockerr']):>8}"
        )
    return "\n".join(lines)


def ratios(a: dict[str, dict], b: dict[str, dict], la: str, lb: str) -> str:
    def div(x: float, y: float) -> str:
        return f"{x / y:.2f}" if y else "n/a"

    lines = [
        f"== ratio B/A  (A = {la}, B = {lb}; req/s > 1 or latency < 1: B is faster)",
        f"{'scenario':<17} {'req/s B/A':>10} {'p50 B/A':>9} {'p99 B/A':>9}",
    ]
    for sc, ra in a.items():
        rb = b[sc]
        lines.append(
            f"{sc:<17} {div(rb['rps'], ra['rps']):>10} {div(rb['p50_ms'], ra['p50_ms']):>9}"
            f" {div(rb['p99_ms'], ra['p99_ms']):>9}"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:8100", help="server A")
    p.add_argument("--db", help="A's database URL (raises key limits, reads resource ids)")
    p.add_argument("--api-key", help="A's pre-issued key (read,write[,admin], huge limit)")
    p.add_argument("--label", default=None)
    p.add_argument("--vs", help="server B: run the same scenarios and print B/A ratios")
    p.add_argument("--vs-db")
    p.add_argument("--vs-api-key")
    p.add_argument("--vs-label", default=None)
    p.add_argument(
        "--scenarios", default=DEFAULT_SCENARIOS, help=f"comma list of {list(SCENARIOS)}"
    )
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run (max 15)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeat", type=int, default=1, help="runs per scenario; medians reported")
    p.add_argument("--pause", type=float, default=1, help="seconds between runs")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--rate-limit", type=int, default=100_000_000)
    p.add_argument(
        "--one-key",
        dest="key_per_scenario",
        action="store_false",
        help="use one key for every scenario (default: a fresh key per scenario)",
    )
    p.add_argument("--out", help="write the results as JSON (read by ceiling.py --http)")
    args = p.parse_args()
    if args.duration > 15:
        die("--duration is capped at 15 s on this shared machine", 2)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for s in scenarios:
        if s not in SCENARIOS:
            die(f"unknown scenario {s!r}; known: {', '.join(SCENARIOS)}", 2)
    require_wrk()

    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"keygate-bench-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    targets = [Target(args.label or args.url, args.url, args.db, args.api_key)]
    if args.vs:
        label_b = args.vs_label or args.vs
        if label_b == targets[0].label:  # A/A run: keep the two result sets apart
            label_b += " (B)"
        targets.append(Target(label_b, args.vs, args.vs_db, args.vs_api_key))
    for t in targets:
        prepare(t, scenarios, args, workdir)

    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(
        f"date={time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} cpus={os.cpu_count()} "
        f"duration={args.duration}s warmup={args.warmup}s repeat={args.repeat} "
        f"wrk -t{args.threads} -c{args.connections}; load average at start: {load}"
    )
    results: dict[str, dict[str, dict]] = {t.label: {} for t in targets}
    for sc in scenarios:
        for t in targets:  # interleaved: A then B for each scenario, so drift hits both
            r = measure(t, sc, args)
            results[t.label][sc] = r
            print(
                f"{t.label:<28} {sc:<17} {r['rps']:>9.1f} req/s  p50 {r['p50_ms']:.2f} ms  "
                f"p99 {r['p99_ms']:.2f} ms  non-2xx {int(r['non2xx'])}  "
                f"sock-err {int(r['sockerr'])}",
                flush=True,
            )
    print()
    for t in targets:
        print(table(t.label, results[t.label]))
        for note in t.notes:
            print(f"  note: {note}")
        print()
    if len(targets) == 2:
        print(
            ratios(
                results[targets[0].label],
                results[targets[1].label],
                targets[0].label,
                targets[1].label,
            )
        )
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"load average at end: {load}  (numbers are noisy: 2 shared cores; trust ratios)")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
