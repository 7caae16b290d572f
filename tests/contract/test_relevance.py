"""Relevance on our own judged set: 32 short policies, 24 queries with their relevant ids.

nDCG@10 and MRR are printed (`pytest -s`) and must stay above a floor, so a change in
analysis or ranking that hurts results fails here rather than in front of users.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from services.search.engines.base import IndexDocument, SearchEngine, SearchQuery
from shared.runtime import run_async

JUDGMENTS = Path(__file__).resolve().parents[1] / "data" / "relevance" / "judgments.json"


def _ndcg(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal


def test_relevance_floor(engine: SearchEngine) -> None:
    data = json.loads(JUDGMENTS.read_text(encoding="utf-8"))
    run_async(
        engine.index(
            [
                IndexDocument(id=i, title=d["title"], text=d["text"])
                for i, d in data["documents"].items()
            ]
        )
    )
    ndcgs, rranks = [], []
    for query, relevant in data["queries"].items():
        hits = [h.id for h in run_async(engine.search(SearchQuery(text=query, size=10))).hits]
        ndcgs.append(_ndcg(hits, set(relevant)))
        rranks.append(next((1 / (i + 1) for i, d in enumerate(hits) if d in relevant), 0.0))
    ndcg, mrr = sum(ndcgs) / len(ndcgs), sum(rranks) / len(rranks)
    print(f"\n[relevance] {engine.name}: nDCG@10 {ndcg:.3f}  MRR {mrr:.3f}  ({len(ndcgs)} queries)")
    assert ndcg >= 0.85 and mrr >= 0.9
