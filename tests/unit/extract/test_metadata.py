"""Metadata extraction: per-field precision on our dev set, and the tricky cases one by one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.metadata_eval import evaluate
from services.extract.metadata import DOC_TYPES, extract_metadata, identity_fields
from services.extract.metadata.vocabulary import doc_type_of

DEV = Path(__file__).resolve().parents[2] / "data" / "metadata_dev.jsonl"
FIELDS = ("title", "doc_number", "issuers", "date", "province", "city", "county", "doc_type")


def _cases() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line]


def test_dev_set_precision_and_recall() -> None:
    report = evaluate()["fields"]
    print("\nfield: precision/recall", json.dumps(report, ensure_ascii=False))
    for f in ("date", "doc_number", "province"):
        assert report[f]["precision"] >= 0.95 and report[f]["recall"] >= 0.95, (f, report[f])
    for f in ("issuers", "city", "doc_type", "title"):
        assert report[f]["precision"] >= 0.9 and report[f]["recall"] >= 0.9, (f, report[f])


@pytest.mark.parametrize(
    "user",
    [
        None,
        {"doc_number": "甘政发〔2024〕1号"},
        {"issuers": "甘肃省人民政府"},
        {"issuers": ["A", "B"]},
    ],
)
def test_dedupe_identity_is_what_extraction_finds(user: dict[str, Any] | None) -> None:
    # Dedupe reads only the identity fields, before the extract stage: the two must agree,
    # or a copy would be merged on one reading and shown with another.
    for case in _cases():
        full = extract_metadata(case["text"], user=user)
        assert identity_fields(case["text"], user=user) == (full["doc_number"], full["issuers"])


def test_evidence_spans_point_at_the_source_text() -> None:
    case = _cases()[0]
    got = extract_metadata(case["text"])
    span = got["evidence"]["doc_number"]
    assert case["text"][span["start"] : span["end"]] == "天政发〔2022〕7号"
    date_span = got["evidence"]["date"]
    assert case["text"][date_span["start"] : date_span["end"]] == "二〇二二年四月十八日"
    assert got["evidence"]["title"]["source"] == "text"


def test_cited_numbers_are_not_the_documents_own() -> None:
    text = (
        "关于做好技能人才评价工作的通知\n各有关单位:\n根据《国务院关于印发国家职业教育改革实施"
        "方案的通知》(国发〔2019〕4号)要求,现通知如下。\n"
    )
    got = extract_metadata(text)
    assert got["doc_number"] is None
    assert got["cited_documents"] == [
        {"title": "国务院关于印发国家职业教育改革实施方案的通知", "doc_number": "国发〔2019〕4号"}
    ]


def test_target_years_and_meeting_dates_are_not_the_date() -> None:
    text = (
        "关于推进产教融合的实施方案\n经2021年3月3日市政府常务会议审议通过。\n"
        "到2025年,建成10个实训基地,每年列支专项经费5000万元。\n"
    )
    got = extract_metadata(text)
    assert got["date"] is None
    assert {"text": "每年列支专项经费5000万元", "value": 50_000_000, "unit": "元"} in got["targets"]


def test_target_durations_are_months_not_counts() -> None:
    text = "关于加强教师实践的通知\n专业课教师每年到企业实践不少于2个月,双师型教师比例提高5个百分点以上。\n"
    got = extract_metadata(text)
    assert [(t["value"], t["unit"]) for t in got["targets"]] == [(2, "个月"), (5, "个百分点")]


def test_outline_levels() -> None:
    text = "标题的实施方案\n一、总体要求\n(一)指导思想\n1.坚持党的领导。要求如下。\n二、保障措施\n"
    assert extract_metadata(text)["outline"] == [
        {"level": 1, "title": "一、总体要求"},
        {"level": 2, "title": "(一)指导思想"},
        {"level": 3, "title": "1.坚持党的领导"},
        {"level": 1, "title": "二、保障措施"},
    ]


def test_user_fields_win_and_html_meta_fills_gaps() -> None:
    text = "各单位:\n现将有关事项通知如下。\n"
    got = extract_metadata(
        text,
        html_meta={
            "ArticleTitle": "关于开展职业教育活动周的通知_兰州市人民政府",
            "PubDate": "2021-05-06 10:00",
        },
        user={"province": "甘肃省"},
    )
    assert got["title"] == "关于开展职业教育活动周的通知"
    assert got["evidence"]["title"]["source"] == "html-meta"
    assert got["published_at"] == "2021-05-06"
    assert got["province"] == "甘肃省" and got["evidence"]["province"]["source"] == "user"
    assert got["doc_type"] == "通知"


@pytest.mark.parametrize(
    ("issuer", "province", "city"),
    [
        ("兴安盟行政公署", "内蒙古自治区", "兴安盟"),
        ("齐齐哈尔市人民政府", "黑龙江省", "齐齐哈尔市"),
        ("重庆市江津区人民政府", "重庆市", "重庆市"),
        ("教育部", None, None),
    ],
)
def test_region_from_the_issuer(issuer: str, province: str | None, city: str | None) -> None:
    text = f"关于加强职业教育工作的通知\n各有关单位:\n请认真落实。\n{issuer}\n2022年3月1日\n"
    got = extract_metadata(text)
    assert got["issuers"] == [issuer]
    assert (got["province"], got["city"]) == (province, city)


def test_doc_type_vocabulary_prefers_the_longest_kind() -> None:
    assert DOC_TYPES.index("实施意见") < DOC_TYPES.index("意见")
    assert extract_metadata("关于推进乡村振兴的实施意见\n正文。")["doc_type"] == "实施意见"
    # every kind comes before the kinds it ends with, so the longest ending wins
    for short in DOC_TYPES:
        for long in DOC_TYPES:
            if long != short and long.endswith(short):
                assert DOC_TYPES.index(long) < DOC_TYPES.index(short), (long, short)


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("关于支持职业教育发展的若干措施", "若干措施"),
        ("青川市促进高校毕业生就业创业十条措施", "措施"),
        ("关于进一步稳定和扩大就业的政策措施", "措施"),
        ("青川市职业院校校企合作管理办法(试行)", "管理办法"),
        ("青川市职业技能提升补贴实施细则（暂行）", "实施细则"),
        ("青川市推进产教融合三年行动计划(2023—2025年)", "行动计划"),
        ("关于印发《青川市公共实训基地管理办法(试行)》的通知", "通知"),
        ("《青川市技能人才评价管理办法（试行）》", "管理办法"),
        ("关于2023年职业院校招生工作检查情况的通报", "通报"),
        ("青川市教育局关于设立青川职业技术学院的请示", "请示"),
        ("中小企业数字化转型合规指引", "指引"),
        ("2024年度职业教育专项资金项目申报指南", "指南"),
        ("青川市教育局权责清单", "清单"),
        ("青川市人民政府常务会议议事规则", "规则"),
        ("昆明市出台职业教育新政", None),  # a news headline has no kind
        ("青川职业技术学院(筹)", None),  # a qualifier alone is not a kind
    ],
)
def test_doc_type_from_the_title_ending(title: str, kind: str | None) -> None:
    assert doc_type_of(title) == kind


def test_a_title_ending_in_a_kind_is_not_joined_to_the_next_line() -> None:
    text = (
        "关于支持职业教育发展的若干措施\n为加快发展现代职业教育\n一、加大投入。现提出如下措施。\n"
    )
    got = extract_metadata(text)
    assert (got["title"], got["doc_type"]) == ("关于支持职业教育发展的若干措施", "若干措施")
    trial = extract_metadata(
        "青川市职业院校校企合作管理办法(试行)\n第一条 为规范管理,制定本办法。\n"
    )
    assert (trial["title"], trial["doc_type"]) == (
        "青川市职业院校校企合作管理办法(试行)",
        "管理办法",
    )


def test_published_at_from_cleaning_beats_a_meeting_time_in_the_text() -> None:
    text = "关于召开职业教育工作会议的通知\n会议时间:2023-09-01\n请准时参加。\n"
    assert extract_metadata(text)["published_at"] == "2023-09-01"  # nothing better known
    got = extract_metadata(text, html_meta={"published_at": "2023-08-28"})
    assert got["published_at"] == "2023-08-28"
    labelled = extract_metadata("关于X的通知\n发布日期:2023年8月20日\n正文。\n")
    assert labelled["published_at"] == "2023-08-20"
