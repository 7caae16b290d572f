"""Embedded multi-select facets: one aggregation pass a search, exact counts, cached."""

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

    def spy(self: EmbeddedEngine, searcher: Any, text: Any, filters: Any, hidden: Any) -> Any:
        seen.append(sorted(filters))
        return original(self, searcher, text, filters, hidden)

    monkeypatch.setattr(EmbeddedEngine, "_facets", spy)
    return engine, seen


def _passes(engine: EmbeddedEngine, seen: list[Any], **kw: Any) -> list[list[str]]:
    """The aggregation passes a search ran, each as the filters it counted under."""
    seen.clear()
    result = run_async(engine.search(SearchQuery(text="产教融合", **kw)))
    assert set(result.facets) == set(FACET_FIELDS)
    assert result.total == 1
    return sorted(seen)


def test_without_filters_one_pass_counts_every_facet(passes: Any) -> None:
    assert _passes(*passes) == [[]]


def test_filters_add_no_pass_each_facet_is_counted_in_the_same_one(passes: Any) -> None:
    engine, seen = passes
    assert _passes(engine, seen, province=["甘肃省"], doc_type=["通知"]) == [
        ["doc_type", "province"]
    ]
    result = run_async(engine.search(SearchQuery(text="产教融合", province=["四川省"])))
    assert result.total == 0 and result.hits == []
    # Multi-select: the province facet leaves out its own filter, the others do not.
    assert [(f.value, f.count) for f in result.facets["province"]] == [("甘肃省", 1)]
    assert result.facets["city"] == []


def test_every_field_filtered_is_still_one_pass(passes: Any) -> None:
    got = _passes(
        *passes,
        province=["甘肃省"],
        city=["兰州市"],
        doc_type=["通知"],
        issuer=["兰州市人民政府"],
        topic=["产教融合"],
        date_to=date(2021, 12, 31),
    )
    assert got == [["city", "date", "doc_type", "issuer", "province", "topic"]]


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
    assert _passes(engine, seen, sort="date_desc") == [[]]
    assert _passes(engine, seen, sort="date_desc", page=2) == []  # another page: same counts
    assert _passes(engine, seen, province=["甘肃省"]) != []  # other filters: counted
    run_async(engine.index([_doc("d2", ["产教融合"])]))
    seen.clear()
    result = run_async(engine.search(SearchQuery(text="产教融合", sort="date_desc")))
    assert seen == [[]]  # the index changed: counted again
    assert result.total == 2
    assert {f.value: f.count for f in result.facets["topic"]} == {"产教融合": 2}


def test_topic_facet_counts_the_slots_documents_fill_and_follows_a_fuller_one(
    tmp_path: Path,
) -> None:
    engine = EmbeddedEngine(tmp_path / "index")
    run_async(engine.index([_doc("a", ["产教融合"]), _doc("b", ["职业教育", "乡村振兴"])]))
    assert engine._topic_slots(engine._open().searcher()) == 2  # slots 3-5 are never read
    assert _topic_counts(engine) == {"产教融合": 1, "职业教育": 1, "乡村振兴": 1}
    # A document filling four slots: its third and fourth topics are counted at once.
    run_async(engine.index([_doc("c", ["技能人才", "教师队伍", "终身学习", "经费保障"])]))
    assert engine._topic_slots(engine._open().searcher()) == 4
    assert _topic_counts(engine) == {
        "产教融合": 1,
        "职业教育": 1,
        "乡村振兴": 1,
        "技能人才": 1,
        "教师队伍": 1,
        "终身学习": 1,
        "经费保障": 1,
    }


def test_filter_values_with_query_syntax_count_and_match_exactly(tmp_path: Path) -> None:
    # Filters reach the facet pass as tantivy query syntax: quotes, backslashes, brackets,
    # colons, operators and spaces inside a value must stay part of that one value.
    values = [
        '某"引号"局',
        "反\\斜杠",
        "(括号) [方] {花}",
        "a:b",
        "OR",
        "两 个",
        "-减+加*",
        "末尾\\",
    ]
    engine = EmbeddedEngine(tmp_path / "index")
    docs = [
        IndexDocument(
            id=f"d{i}",
            title="关于推进产教融合的通知",
            text="深化校企合作。",
            issuers=[value],
            province="甘肃省" if i % 2 else "四川省",
        )
        for i, value in enumerate(values)
    ]
    run_async(engine.index(docs))
    for i, value in enumerate(values):
        result = run_async(engine.search(SearchQuery(text="产教融合", issuer=[value])))
        assert [h.id for h in result.hits] == [f"d{i}"] and result.total == 1, value
        province = "甘肃省" if i % 2 else "四川省"
        assert [(f.value, f.count) for f in result.facets["province"]] == [(province, 1)]
        # Its own facet leaves the issuer filter out: every issuer is offered.
        assert {f.value for f in result.facets["issuer"]} == set(values)
    both = run_async(engine.search(SearchQuery(text="产教融合", issuer=values[:2])))
    assert both.total == 2
