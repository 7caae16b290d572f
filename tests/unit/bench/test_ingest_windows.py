"""The ingest benchmark's per-window p99: a stall shows in the window it happened in."""

from __future__ import annotations

from bench.pipeline import WINDOW_S, _windowed_p99


def test_a_stall_raises_the_p99_of_its_own_window_only() -> None:
    # 100 requests a second for three windows, 5 ms each, except a burst of slow
    # answers (a 150 ms stall) in the middle window.
    started = [i / 100 for i in range(3 * WINDOW_S * 100)]
    latencies = [5.0] * len(started)
    stall = int(1.5 * WINDOW_S * 100)
    for i in range(stall, stall + 30):
        latencies[i] = 150.0
    assert _windowed_p99(latencies, started, 3 * WINDOW_S) == [5.0, 150.0, 5.0]


def test_requests_sent_late_count_in_the_last_window() -> None:
    # An open-loop generator falling behind sends a few requests after the run's end.
    started = [0.5, 1.0, WINDOW_S + 0.5, 2 * WINDOW_S + 0.1]
    assert _windowed_p99([3.0, 4.0, 9.0, 12.0], started, 2 * WINDOW_S) == [4.0, 12.0]
