"""Small statistics helpers shared by the benchmark parts: percentiles and a latency summary.

Pure functions over lists of numbers; no timing or I/O here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (fraction in 0–1) of `values`; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True, slots=True)
class Latency:
    """p50, p99, max and mean of a set of latencies, in milliseconds, and how many there were."""

    count: int
    p50: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of_seconds(cls, seconds: Sequence[float]) -> Latency:
        ms = [s * 1000 for s in seconds]
        mean = sum(ms) / len(ms) if ms else 0.0
        return cls(len(ms), percentile(ms, 0.50), percentile(ms, 0.99), max(ms, default=0.0), mean)

    def brief(self) -> str:
        return f"p50 {fmt_ms(self.p50)} · p99 {fmt_ms(self.p99)} · max {fmt_ms(self.max)} ms"


def fmt_ms(value: float) -> str:
    """Milliseconds with a precision that suits their size: 0.087, 1.42, 13.1, 250."""
    if value < 1:
        return f"{value:.3f}"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
