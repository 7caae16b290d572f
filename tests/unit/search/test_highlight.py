"""Snippets with <em> marks, escaped HTML, marks on the original characters."""

from __future__ import annotations

from services.search.analysis import get_analyzer
from services.search.highlight import SNIPPET_CHARS, highlight


def test_marks_terms_and_escapes_the_rest() -> None:
    text = "<b>通知</b>:深化产教融合 & 校企合作"
    (fragment,) = highlight(text, text, ["产教融合"])
    assert "<em>产教融合</em>" in fragment
    assert "&lt;b&gt;" in fragment and "&amp;" in fragment and "<b>" not in fragment


def test_traditional_text_is_marked_in_its_own_script() -> None:
    text = "推進職業教育高質量發展"
    (fragment,) = highlight(text, get_analyzer().normalize(text), ["职业教育"], whole=True)
    assert fragment == "推進<em>職業教育</em>高質量發展"


def test_snippets_are_short_and_around_the_matches() -> None:
    text = "无关内容。" * 100 + "全面推进乡村振兴战略。" + "其他内容。" * 100
    fragments = highlight(text, text, ["乡村振兴"])
    assert len(fragments) == 1
    assert "<em>乡村振兴</em>" in fragments[0]
    assert len(fragments[0].replace("<em>", "").replace("</em>", "")) <= SNIPPET_CHARS + 2


def test_no_match_gives_nothing() -> None:
    assert highlight("营商环境", "营商环境", ["乡村振兴"]) == []
    assert highlight("营商环境", "营商环境", []) == []


def test_another_query_on_the_same_text_marks_its_own_terms() -> None:
    # The pattern is built once per set of terms and reused: a different set must not
    # get an earlier one's.
    text = "深化产教融合,推进校企合作。"
    assert highlight(text, text, ["产教融合"], whole=True) == [
        "深化<em>产教融合</em>,推进校企合作。"
    ]
    assert highlight(text, text, ["校企合作"], whole=True) == [
        "深化产教融合,推进<em>校企合作</em>。"
    ]
