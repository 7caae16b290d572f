"""The pipeline benchmark's CPU per document, by part of the stack."""

from __future__ import annotations

from bench.pipeline import _cpu_per_document


def test_cpu_is_summed_per_role_and_a_process_started_meanwhile_counts_whole() -> None:
    before = {1: ("extract", 10.0), 2: ("extract", 4.0), 3: ("indexer", 1.0)}
    after = {
        1: ("extract", 13.0),
        2: ("extract", 5.0),
        3: ("indexer", 2.5),
        4: ("extract", 0.5),  # a pool process replaced during the run
    }
    assert _cpu_per_document(before, after, 1000) == {
        "extract": 4.5,
        "indexer": 1.5,
        "total": 6.0,
    }
