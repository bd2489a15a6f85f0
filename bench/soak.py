"""Memory soak: the mixed scenario for N minutes while the server's RSS is sampled.

    uv run python bench/soak.py --url http://127.0.0.1:8100 --db postgresql://.../kg \\
        --api-key rk_... --minutes 10 [--interval 30]

The server is found by the port it listens on (every process of its tree is sampled:
the granian supervisor and its workers). Prints one line per sample and, at the end,
the peak RSS per process and its growth over the second half of the run. Load is
wrk -t2 -c32 as in run.py; the wrk run is split into chunks of --interval seconds so
that every sample is taken under load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from run import SCENARIOS, Target, check_loopback, prepare, require_wrk, run_wrk

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def server_pids(port: int) -> list[int]:
    """Every process holding the listening socket (granian's supervisor and its workers
    all do) and their children."""
    out = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    found = {int(part[4:]) for part in out.replace(",", " ").split() if part.startswith("pid=")}
    if not found:
        sys.exit(f"soak.py: nothing listens on port {port}")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid in found:
            found.add(int(stat.parent.name))
    return sorted(found)


def rss_mb(pid: int) -> float | None:
    try:
        resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError):
        return None
    return resident * PAGE_KB / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:8100")
    p.add_argument("--db", required=True)
    p.add_argument("--api-key", required=True)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--interval", type=int, default=30)
    args = p.parse_args()
    require_wrk()
    _, port = check_loopback(args.url)
    pids = server_pids(port)
    # run.py's own knobs, as its command line would set them.
    knobs = argparse.Namespace(
        threads=2, connections=32, rate_limit=1_000_000_000, key_per_scenario=True
    )
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"keygate-soak-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    target = Target("soak", args.url, args.db, args.api_key)
    prepare(target, ["mixed"], knobs, workdir)
    assert SCENARIOS["mixed"][1]

    samples: list[tuple[float, dict[int, float | None]]] = []
    start = time.monotonic()
    print(f"pids {pids}; {args.minutes} min of mixed, a sample every {args.interval} s")
    while (elapsed := time.monotonic() - start) < args.minutes * 60:
        r = run_wrk(target, "mixed", args.interval, knobs)
        sample = {pid: rss_mb(pid) for pid in pids}
        samples.append((elapsed + args.interval, sample))
        rss = "  ".join(f"{pid}:{mb:.1f}" if mb else f"{pid}:gone" for pid, mb in sample.items())
        print(
            f"t={elapsed + args.interval:6.0f}s  {r['rps']:7.1f} req/s  p99 {r['p99_ms']:6.1f} ms"
            f"  non-2xx {int(r['non2xx'])}  RSS MB {rss}",
            flush=True,
        )
    half = [s for t, s in samples if t > args.minutes * 30]
    print("\npid      peak MB   at half-time   at end   growth in the second half")
    for pid in pids:
        values = [s[pid] for _, s in samples if s[pid] is not None]
        second = [s[pid] for s in half if s[pid] is not None]
        if not values or not second:
            print(f"{pid:<8} gone")
            continue
        print(
            f"{pid:<8} {max(values):7.1f}   {second[0]:12.1f}   {second[-1]:6.1f}"
            f"   {second[-1] - second[0]:+.1f}"
        )


if __name__ == "__main__":
    main()
