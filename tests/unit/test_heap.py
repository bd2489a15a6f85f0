"""A server worker settles its heap once its app is built (entrypoints/heap.py)."""

from __future__ import annotations

import subprocess
import sys

from entrypoints import heap


def test_settle_freezes_the_built_objects_and_collects_less_often() -> None:
    # In a process of its own: freezing and the thresholds are process-wide.
    probe = (
        "import gc; from entrypoints import heap; before = gc.get_freeze_count(); "
        "heap.settle(); print(before, gc.get_freeze_count(), *gc.get_threshold())"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before, frozen, *thresholds = map(int, out.stdout.split())
    assert before == 0
    assert frozen > 1000  # the imported modules' objects at least
    assert tuple(thresholds) == heap.THRESHOLDS
