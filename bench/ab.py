"""An A/B of two running servers on one scenario: R rounds of run.py, A and B
alternating (AB, BA, AB, ...) so drift on a shared machine hits both alike; prints
each round's req/s, the medians and the ratio of the medians (B/A).

    uv run python bench/ab.py --db $KG --api-key $KEY --scenario get-one --rounds 3 \\
        --a http://127.0.0.1:8171 --a-label metrics-on --b http://127.0.0.1:8172 --b-label off
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RUN = Path(__file__).with_name("run.py")


def one_round(first: tuple[str, str], second: tuple[str, str], args: argparse.Namespace) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, str(RUN), "--url", first[0], "--label", first[1], "--db", args.db,
             "--api-key", args.api_key, "--vs", second[0], "--vs-label", second[1],
             "--vs-db", args.db, "--vs-api-key", args.api_key, "--scenarios", args.scenario,
             "--duration", str(args.duration), "--out", out.name],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        results: dict = json.loads(Path(out.name).read_text())
    return {label: r[args.scenario] for label, r in results.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    for side in ("a", "b"):
        p.add_argument(f"--{side}", required=True, help=f"server {side.upper()}")
        p.add_argument(f"--{side}-label", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--api-key", required=True)
    p.add_argument("--scenario", default="get-one")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=10)
    args = p.parse_args()
    a, b = (args.a, args.a_label), (args.b, args.b_label)
    rps: dict[str, list[float]] = {a[1]: [], b[1]: []}
    p99: dict[str, list[float]] = {a[1]: [], b[1]: []}
    for i in range(args.rounds):
        result = one_round(*((a, b) if i % 2 == 0 else (b, a)), args)
        for label, r in result.items():
            rps[label].append(r["rps"])
            p99[label].append(r["p99_ms"])
        print(
            f"round {i + 1}: " + "  ".join(f"{k} {v['rps']:.0f} req/s" for k, v in result.items())
        )
    ma, mb = statistics.median(rps[a[1]]), statistics.median(rps[b[1]])
    for label in rps:
        print(f"{label}: median {statistics.median(rps[label]):.0f} req/s, "
              f"p99 median {statistics.median(p99[label]):.1f} ms, runs {rps[label]}")  # fmt: skip
    spread = [rb / ra for ra, rb in zip(rps[a[1]], rps[b[1]], strict=True)]
    print(f"{args.scenario}: B/A = {mb / ma:.3f} (rounds: {', '.join(f'{s:.3f}' for s in spread)})")


if __name__ == "__main__":
    main()
