"""The search benchmark's replay against the real search service: every query answered
and timed once, a refused one counted as an error."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.corpus import generate
from bench.search_bench import _replay, _search_service, build_index, query_set


def test_replay_times_every_query_once_and_counts_refusals(tmp_path: Path) -> None:
    build_index(generate(60, seed=4), tmp_path / "index")
    queries = query_set(24)
    bad = {"q": "产教融合", "size": 1000}  # over the API's limit: 422
    with _search_service(tmp_path) as base:
        latencies, elapsed, errors = asyncio.run(_replay(base, [*queries, bad], 4))
    assert len(latencies) == 25
    assert errors == 1
    assert all(ms > 0 for ms in latencies) and elapsed > 0
