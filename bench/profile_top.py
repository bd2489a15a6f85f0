"""Summarise a py-spy raw (collapsed) profile: top functions by self and inclusive time.

    uv run python bench/profile_top.py profile.txt [--top 20] [--idle]

py-spy record -f raw writes one `frame;frame;...;leaf COUNT` line per stack. Idle
samples (the event loop waiting in select/epoll) are left out unless --idle.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

IDLE = re.compile(r"^(select|poll|_run_once|run_forever|_worker|wait) ")
# Outer frames every sample passes through: left out of the inclusive list.
OUTER = re.compile(
    r"multiprocessing/|granian/server/|entrypoints/cli/|<module>|asyncio/(base_)?events"
)


def short(frame: str) -> str:
    # "func (path/to/pkg/module.py:123)" -> "func (pkg/module.py)"
    m = re.match(r"(.*) \((.*?):\d+\)$", frame)
    if not m:
        return frame
    func, path = m.groups()
    path = path.split("site-packages/")[-1].split("wt-bench/")[-1]
    return f"{func} ({path})"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("profile")
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--idle", action="store_true", help="keep samples idle in the event loop")
    a = p.parse_args()
    own: Counter[str] = Counter()
    by_pkg: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = idle = 0
    with open(a.profile) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            n = int(count)
            frames = [short(x) for x in stack.split(";") if x]
            total += n
            if not frames:
                continue
            if not a.idle and IDLE.match(frames[-1].split(" (")[0] + " "):
                idle += n
                continue
            own[frames[-1]] += n
            pkg = frames[-1].rsplit("(", 1)[-1].split("/")[0].rstrip(")")
            by_pkg[pkg] += n
            for fr in set(frames):
                incl[fr] += n
    busy = total - idle
    print(f"samples: {total}, idle in the event loop: {idle} ({idle / total:.0%}), busy: {busy}")
    print(f"\ntop {a.top} by self time (% of busy samples)")
    for fr, n in own.most_common(a.top):
        print(f"{n / busy:6.1%}  {fr}")
    print("\nself time by top-level package (C calls are charged to their Python caller)")
    for pkg, n in by_pkg.most_common(12):
        print(f"{n / busy:6.1%}  {pkg}")
    print(f"\ntop {a.top} by inclusive time (% of busy samples; outer frames left out)")
    inner = [(fr, n) for fr, n in incl.most_common() if not OUTER.search(fr)]
    for fr, n in inner[: a.top]:
        print(f"{n / busy:6.1%}  {fr}")


if __name__ == "__main__":
    main()
