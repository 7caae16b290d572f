"""Embedded multi-select facets: how many aggregation passes a search costs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.search.engines.base import FACET_FIELDS, IndexDocument, SearchQuery
from services.search.engines.embedded import EmbeddedEngine
from shared.runtime import run_async


@pytest.fixture
def passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[EmbeddedEngine, list[Any]]:
    engine = EmbeddedEngine(tmp_path / "index")
    doc = IndexDocument(
        id="d1",
        title="关于推进产教融合的通知",
        text="深化校企合作。",
        issuers=["兰州市人民政府"],
        date=date(2021, 3, 22),
        province="甘肃省",
        city="兰州市",
        doc_type="通知",
        topics=["产教融合"],
    )
    run_async(engine.index([doc]))
    seen: list[list[str]] = []
    original = EmbeddedEngine._facets

    def spy(self: EmbeddedEngine, searcher: Any, query: Any, names: Any) -> Any:
        seen.append(list(names))
        return original(self, searcher, query, names)

    monkeypatch.setattr(EmbeddedEngine, "_facets", spy)
    return engine, seen


def _passes(engine: EmbeddedEngine, seen: list[Any], **kw: Any) -> list[list[str]]:
    seen.clear()
    result = run_async(engine.search(SearchQuery(text="产教融合", **kw)))
    assert set(result.facets) == set(FACET_FIELDS)
    return sorted(seen)


def test_without_filters_one_pass_counts_every_facet(passes: Any) -> None:
    assert _passes(*passes) == [list(FACET_FIELDS)]


def test_each_filtered_field_adds_one_pass_the_others_share_one(passes: Any) -> None:
    shared = [f for f in FACET_FIELDS if f != "province"]
    assert _passes(*passes, province=["甘肃省"]) == sorted([shared, ["province"]])
    got = _passes(*passes, province=["甘肃省"], date_from=date(2021, 1, 1))
    assert got == sorted([["city", "doc_type", "issuer", "topic"], ["province"], ["year"]])


def test_every_field_filtered_means_no_shared_pass(passes: Any) -> None:
    got = _passes(
        *passes,
        province=["甘肃省"],
        city=["兰州市"],
        doc_type=["通知"],
        issuer=["兰州市人民政府"],
        topic=["产教融合"],
        date_to=date(2021, 12, 31),
    )
    assert got == sorted([f] for f in FACET_FIELDS)
