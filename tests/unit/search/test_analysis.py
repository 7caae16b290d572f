"""The IK-style analyser: what gets indexed and what a query is cut into."""

from __future__ import annotations

from pathlib import Path

from services.search.analysis import ANALYSIS_DIR, Analyzer, Token, get_analyzer


def _words(tokens: list[Token]) -> list[str]:
    return [t.token for t in tokens]


def test_max_word_keeps_dictionary_terms_and_their_sub_words() -> None:
    a = get_analyzer()
    words = _words(a.max_word("深化产教融合推进职业教育高质量发展"))
    for expected in ("产教融合", "职业教育", "职业", "教育", "高质量发展", "高质量", "质量"):
        assert expected in words


def test_max_word_offsets_point_into_the_text() -> None:
    text = "加强双师型教师队伍建设,推行一网通办"
    for t in get_analyzer().max_word(text):
        assert text[t.start : t.end] == t.token


def test_smart_is_coarse_and_drops_stopwords() -> None:
    a = get_analyzer()
    smart = _words(a.smart("加强双师型教师和产教融合的队伍建设"))
    assert "双师型教师" in smart and "产教融合" in smart
    assert "双师" not in smart and "教师" not in smart  # sub-words are max_word's
    assert "和" not in smart and "的" not in smart
    assert len(smart) < len(a.max_word("加强双师型教师和产教融合的队伍建设"))


def test_numbers_are_split_from_quantifiers() -> None:
    a = get_analyzer()
    assert _words(a.smart("2020年3月13日印发")) == ["2020", "年", "3", "月", "13", "日", "印发"]
    assert {"2021", "13", "号"} <= set(_words(a.max_word("兰政发〔2021〕13号")))
    assert {"2.5", "30"} <= set(_words(a.max_word("投入2.5亿元,占比30%")))


def test_normalize_is_simplified_half_width_lower_case_and_keeps_length() -> None:
    a = get_analyzer()
    for raw, expected in (
        ("職業教育發展", "职业教育发展"),
        ("２０２３年ＡＢＣ", "2023年abc"),
        ("一網通辦(試行)", "一网通办(试行)"),
        ("兰政发〔２０２１〕１３号", "兰政发〔2021〕13号"),
    ):
        normalized = a.normalize(raw)
        assert normalized == expected
        assert len(normalized) == len(raw)


def test_traditional_text_gives_the_simplified_tokens() -> None:
    a = get_analyzer()
    assert _words(a.smart(a.normalize("營商環境優化"))) == _words(a.smart("营商环境优化"))


def test_synonyms_go_both_ways() -> None:
    a = get_analyzer()
    assert "职业教育" in a.synonyms("职教")
    assert "职教" in a.synonyms("职业教育")
    assert "高等职业教育" in a.synonyms("高职")
    assert a.synonyms("教师") == []


def test_dictionary_is_large_and_versioned() -> None:
    a = get_analyzer()
    assert len(a.user_terms) >= 300
    assert {"产教融合", "专精特新", "放管服", "一网通办"} <= set(a.user_terms)
    assert len(a.dictionary_version) == 12
    assert Analyzer(ANALYSIS_DIR).dictionary_version == a.dictionary_version
    assert get_analyzer() is a


def test_dictionary_version_changes_with_the_files(tmp_path: Path) -> None:
    for name in ("policy_terms.dic", "synonyms.txt", "stopwords.dic"):
        (tmp_path / name).write_bytes((ANALYSIS_DIR / name).read_bytes())
    with (tmp_path / "policy_terms.dic").open("a", encoding="utf-8") as f:
        f.write("数字游民驿站\n")
    custom = Analyzer(tmp_path)
    assert custom.dictionary_version != get_analyzer().dictionary_version
    assert "数字游民驿站" in _words(custom.smart("建设数字游民驿站"))
