"""Small timing helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary_ms(values_ms: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "mean": round(statistics.fmean(values_ms), 3) if values_ms else float("nan"),
        "p50": round(percentile(values_ms, 50), 3),
        "p95": round(percentile(values_ms, 95), 3),
        "p99": round(percentile(values_ms, 99), 3),
        "max": round(max(values_ms), 3) if values_ms else float("nan"),
    }


def per_item_ms(
    fn: Callable[[T], Any], items: Sequence[T], *, repeat: int = 3
) -> tuple[float, list[Any]]:
    """Median over `repeat` passes of the mean milliseconds per item; returns the last results."""
    passes: list[float] = []
    results: list[Any] = []
    for _ in range(repeat):
        start = time.perf_counter()
        results = [fn(item) for item in items]
        passes.append((time.perf_counter() - start) * 1000 / max(1, len(items)))
    return statistics.median(passes), results


def reference_ms(repeat: int = 3) -> float:
    """A fixed CPU-bound workload (two million additions in Python), median of `repeat`.

    The same code's figures moved 1.6× between days on this shared machine: the bench
    prints this at its start and end so that two runs compare after scaling by it."""
    passes: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        passes.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(passes), 1)
