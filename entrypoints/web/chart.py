"""Geometry of the usage bar chart; the template turns it into inline SVG."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.request_log import HourCount

WIDTH = 720
HEIGHT = 240
LEFT = 44
BOTTOM = 28
TOP = 12
GAP = 2


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    baseline: float
    left: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    peak: int


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at or above value, for round axis labels."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def bar_chart(hours: Sequence[HourCount], label: str = "%H:00") -> Chart:
    """Bars of an hourly series, or of a daily one with label="%m-%d"."""
    peak = max((h.count for h in hours), default=0)
    top_value = _nice_ceiling(max(peak, 1))
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = float(HEIGHT - BOTTOM)
    slot = (WIDTH - LEFT) / max(len(hours), 1)
    bars = []
    for i, hour in enumerate(hours):
        height = plot_height * hour.count / top_value
        bars.append(
            Bar(
                x=round(LEFT + i * slot + GAP / 2, 2),
                y=round(baseline - height, 2),
                width=round(slot - GAP, 2),
                height=round(height, 2),
                count=hour.count,
                label=hour.hour.strftime(label),
            )
        )
    # A middle line only where it falls on a whole number of requests.
    values = (0, top_value // 2, top_value) if top_value % 2 == 0 else (0, top_value)
    ticks = tuple(
        Tick(y=round(baseline - plot_height * value / top_value, 2), value=value)
        for value in values
    )
    return Chart(WIDTH, HEIGHT, baseline, LEFT, tuple(bars), ticks, peak)
