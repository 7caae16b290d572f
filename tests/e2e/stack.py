"""The end-to-end tests drive the same stack client as the benchmarks."""

from bench.stack import FINAL, RunningStack

__all__ = ["FINAL", "RunningStack"]
