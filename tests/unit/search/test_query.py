"""Parsing what users type into the search box."""

from __future__ import annotations

from services.search.query import parse_query


def test_terms_phrases_and_exclusions() -> None:
    q = parse_query('产教融合 "双师型教师" -乡村 -"营商环境"')
    assert [t.text for t in q.terms] == ["产教融合"]
    assert q.phrases == ["双师型教师"]
    assert q.excluded == ["乡村", "营商环境"]
    assert "产教融合" in q.tokens and "双师型教师" in q.tokens


def test_traditional_and_full_width_input_is_normalised() -> None:
    q = parse_query("職業教育　２０２３年")
    assert q.normalized == "职业教育 2023年"
    assert [t.tokens for t in q.terms] == [["职业教育"], ["2023", "年"]]


def test_synonyms_are_attached() -> None:
    (term,) = parse_query("职教").terms
    assert "职业教育" in term.synonyms
    (term,) = parse_query("中职").terms
    assert "中等职业教育" in term.synonyms


def test_doc_numbers_in_any_bracket_form() -> None:
    for raw in ("兰政发[2021]13号", "兰政发〔2021〕13号", "兰政发(2021)13号", "兰政发 [2021] 13号"):
        q = parse_query(raw)
        assert q.doc_numbers == ["兰政发〔2021〕13号"], raw
        assert q.terms == []


def test_doc_number_inside_a_pasted_title() -> None:
    q = parse_query("关于印发兰政发[2021]13号的通知")
    assert q.doc_numbers == ["兰政发〔2021〕13号"]
    assert "通知" in q.tokens


def test_excluded_doc_number() -> None:
    q = parse_query("乡村振兴 -甘政办发[2020]1号")
    assert q.excluded == ["甘政办发〔2020〕1号"] and q.doc_numbers == []


def test_a_date_is_not_a_doc_number() -> None:
    q = parse_query("2021年13号")
    assert q.doc_numbers == []
    assert q.tokens == ["2021", "年", "13", "号"]


def test_empty_and_punctuation_only_queries() -> None:
    assert parse_query("").is_empty
    assert parse_query("  ,。 - ").is_empty


def test_highlight_terms_longest_first() -> None:
    terms = parse_query("职教 产教融合").highlight_terms()
    assert terms.index("职业教育") < terms.index("职教")
    assert len(terms[0]) >= len(terms[-1])
