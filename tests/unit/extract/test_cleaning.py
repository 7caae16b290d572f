"""Cleaning on our own fixtures (the seeds' styles, our text), with exact expected output."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.extract.cleaning import clean_document
from services.extract.cleaning.pinyin import strip_pinyin_annotations
from shared.formats import decode_text

POLICIES = Path(__file__).resolve().parents[2] / "data" / "policies"


def _clean(name: str):  # type: ignore[no-untyped-def]
    return clean_document(decode_text((POLICIES / name).read_bytes()).text)


@pytest.mark.parametrize(
    ("text", "expected", "removed"),
    [
        ("落實(shí)", "落實", 1),
        ("職業(yè)教育", "職業教育", 1),
        ("(以下簡(jiǎn)稱聯(lián)合體)", "(以下簡稱聯合體)", 2),
        ("(教職成廳函〔2023〕15號(hào))", "(教職成廳函〔2023〕15號)", 1),
        ("(一)健全工作機(jī)制", "(一)健全工作機制", 1),
        ("各縣(市)區(qū)", "各縣(市)區", 1),
        ("產(chǎn)教融合(hé)", "產教融合", 2),
        ("(2020)", "(2020)", 0),
        ("(试行)", "(试行)", 0),
        ("ABC(de)", "ABC(de)", 0),  # not after a Han character
        # damaged by the site: `(` lost with the character, or the character turned Latin
        ("與當?shù)卣畬?duì)接", "與當?卣畬?接", 2),
        ("佈局與當?shù)禺a(chǎn)業", "佈局與當?禺a業", 2),
        ("專家?(guī)庫", "專家?庫", 1),
        ("问题?(是)", "问题?(是)", 0),
        ("版本B(beta)", "版本B(beta)", 0),  # no tone mark: not an annotation
    ],
)
def test_pinyin_annotations_and_real_parentheses(text: str, expected: str, removed: int) -> None:
    assert strip_pinyin_annotations(text) == (expected, removed)


def test_traditional_with_pinyin_becomes_clean_simplified() -> None:
    r = _clean("01_traditional_pinyin.txt")
    assert r.text == (
        "鹤山市人民政府\n"
        "鹤山市深入推进产教融合发展,坚持把职业教育摆在经济社会发展全局中谋划,以建设市域产教联合体"
        "(以下简称联合体)为抓手,推动学校与企业协同育人。\n"
        "(一)健全工作机制\n"
        "市政府成立产教融合工作领导小组,各县(市)区明确专人负责,形成上下联动的工作格局。\n"
        "(二)加大经费投入\n"
        "市财政每年安排专项资金2000万元,支持职业院校开展校企合作项目。"
    )
    assert r.original_script == "traditional"
    assert r.text_original_script.startswith("鶴山市人民政府\n鶴山市深入推進產教融合發展")
    assert r.quality["pinyin_annotations_removed"] == 28
    assert [(p.kind, p.text) for p in r.removed] == [("editor_line", "编辑/陈小明")]


def test_mojibake_is_flagged_not_hidden() -> None:
    r = _clean("02_mojibake.txt")
    assert r.quality["suspected_mojibake"] is True
    assert r.quality["mojibake_runs"] == 2
    assert r.text.startswith("临川市推进职业教育高质量发展工作情况\n今年以来")


def test_pipe_table_rows_are_kept_as_rows() -> None:
    lines = _clean("03_table.txt").text.split("\n")
    assert "序号 | 重点任务 | 责任单位" in lines
    assert "3 | 设立职业教育发展专项资金,每年列支1500万元。 | 区财政局" in lines


def test_fragment_is_marked() -> None:
    r = _clean("04_fragment.txt")
    assert r.quality["is_fragment"] is True
    assert r.text.startswith("9.深化产教融合。")


def test_wechat_boilerplate_removed_and_source_url_kept() -> None:
    r = _clean("05_wechat.txt")
    assert r.text.split("\n")[:4] == [
        "安定市人民政府关于印发",
        "《安定市深化产教融合推进职业教育",
        "改革发展实施方案》的通知",
        "安政发〔2022〕8号",
    ]
    assert r.text.endswith("(二)提升服务能力。职业院校每年开展职业技能培训不少于1万人次。")
    kinds = [p.kind for p in r.removed]
    for kind in (
        "clickbait_header",
        "source_line",
        "copyright",
        "disclaimer",
        "editor_line",
        "share_prompt",
        "link_list",
        "source_url",
    ):
        assert kind in kinds, kind
    assert r.source_url == "https://www.anding.gov.cn/zwgk/zfwj/202204/t20220418_1234.html"
    assert r.quality["boilerplate_removed_chars"] == sum(len(p.text) for p in r.removed)
    for gone in (
        "免责声明",
        "版权归原作者所有",
        "来源丨",
        "最新加入",
        "热门资讯",
        "2023-05-02",
        "分享到",
    ):
        assert gone not in r.text


def test_copies_in_either_script_and_layout_hash_alike() -> None:
    simplified = clean_document("关于推进产教融合的通知\n各单位:\n  现通知如下。")
    traditional = clean_document("關於推進產教融合的通知\n\n各單位:現通知如下。\n")
    assert simplified.content_hash == traditional.content_hash
