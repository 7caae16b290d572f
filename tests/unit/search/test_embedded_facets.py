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


def _doc(doc_id: str, topics: list[str]) -> IndexDocument:
    return IndexDocument(
        id=doc_id, title="关于推进产教融合的通知", text="深化校企合作。", topics=topics
    )


def _topic_counts(engine: EmbeddedEngine, **kw: Any) -> dict[str, int]:
    result = run_async(engine.search(SearchQuery(text="产教融合", **kw)))
    return {f.value: f.count for f in result.facets["topic"]}


def test_topic_counts_are_exact_over_slots_and_past_them(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path / "index")
    run_async(
        engine.index(
            [
                _doc("a", ["产教融合", "职业教育", "就业创业"]),
                _doc("b", ["职业教育"]),
                _doc("c", []),
                _doc("d", ["职业教育", "职业教育", "乡村振兴"]),  # a repeat counts once
            ]
        )
    )
    expected = {"职业教育": 3, "产教融合": 1, "就业创业": 1, "乡村振兴": 1}
    assert _topic_counts(engine) == expected
    # A submitter's document with more topics than there are slots: counted all the same.
    many = ["产教融合", "职业教育", "乡村振兴", "技能人才", "教师队伍", "终身学习", "经费保障"]
    run_async(engine.index([_doc("e", many)]))
    counts = _topic_counts(engine)
    assert counts == {
        **{t: 1 for t in many},
        "职业教育": 4,
        "产教融合": 2,
        "乡村振兴": 2,
        "就业创业": 1,
    }
    # Multi-select: a topic filter keeps the other topics' counts under the rest.
    assert _topic_counts(engine, topic=["就业创业"])["职业教育"] == 4


def test_facets_of_a_repeated_search_are_counted_once_until_the_index_changes(
    passes: Any,
) -> None:
    engine, seen = passes
    assert _passes(engine, seen, sort="date_desc") == [list(FACET_FIELDS)]
    assert _passes(engine, seen, sort="date_desc", page=2) == []  # another page: same counts
    assert _passes(engine, seen, province=["甘肃省"]) != []  # other filters: counted
    run_async(engine.index([_doc("d2", ["产教融合"])]))
    seen.clear()
    result = run_async(engine.search(SearchQuery(text="产教融合", sort="date_desc")))
    assert seen == [list(FACET_FIELDS)]  # the index changed: counted again
    assert {f.value: f.count for f in result.facets["topic"]} == {"产教融合": 2}
