"""How a server worker's garbage collector is set once the app is built.

A worker builds its app once (routes, the container, compiled signatures: hundreds of
thousands of objects that live as long as the process), then serves requests that each
allocate a few hundred short-lived objects, almost none of them in reference cycles.
With CPython's defaults a collection of the youngest generation ran every 700
allocations and every full collection walked the whole app again: measured, 10–20 %
of get-one's throughput and a share of its tail (bench/README.md, "Python per request").
"""

from __future__ import annotations

import gc

# Allocations (net of frees) between two collections of the youngest generation; the
# older generations keep CPython's ratios roughly (10 and 10), a little wider.
YOUNG_THRESHOLD = 20_000
THRESHOLDS = (YOUNG_THRESHOLD, 50, 100)


def settle() -> None:
    """Collect what building the app left, move every surviving object out of the
    collector's sight (gc.freeze: they are never garbage), and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
