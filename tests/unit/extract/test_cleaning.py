"""Cleaning on our own fixtures (the seeds' styles, our text), with exact expected output."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.extract.cleaning import clean_document
from services.extract.cleaning.pinyin import strip_pinyin_annotations
from services.extract.metadata import extract_metadata
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


# A portal page copied as text: furniture above and below a short notice (our own text).
PORTAL_PAGE = """当前位置:首页 > 政务公开 > 政策文件 > 正文
发布时间:2023-08-28 09:15 来源:青川市教育局 浏览次数:1532
【字体:大 中 小】
青川市教育局关于做好2023年秋季学期职业院校招生工作的通知
青教发〔2023〕21号
各县区教育局,市属各职业院校:
现将2023年秋季学期招生工作有关事项通知如下。招生计划以市教育局网站首页公布的为准,来源不明的招生信息一律无效。
一、严格招生纪律。各校不得委托中介机构招生。
青川市教育局
2023年8月25日
【打印本页】【关闭窗口】
【我要纠错】
分享到:
扫一扫在手机打开当前页
相关链接:
主办单位:青川市教育局 承办:青川市信息中心
网站标识码:6209000012 陇ICP备09001234号
甘公网安备 62090202000123号"""


def test_portal_furniture_is_removed_and_the_publication_date_kept() -> None:
    r = clean_document(PORTAL_PAGE)
    assert r.text == (
        "青川市教育局关于做好2023年秋季学期职业院校招生工作的通知\n"
        "青教发〔2023〕21号\n"
        "各县区教育局,市属各职业院校:\n"
        "现将2023年秋季学期招生工作有关事项通知如下。招生计划以市教育局网站首页公布的为准,"
        "来源不明的招生信息一律无效。\n"
        "一、严格招生纪律。各校不得委托中介机构招生。\n"
        "青川市教育局\n"
        "2023年8月25日"
    )
    assert [(p.kind, p.text) for p in r.removed] == [
        ("breadcrumb", "当前位置:首页 > 政务公开 > 政策文件 > 正文"),
        ("publish_info", "发布时间:2023-08-28 09:15 来源:青川市教育局 浏览次数:1532"),
        ("page_tools", "【字体:大 中 小】"),
        ("page_tools", "【打印本页】【关闭窗口】"),
        ("page_tools", "【我要纠错】"),
        ("page_tools", "分享到:"),
        ("page_tools", "扫一扫在手机打开当前页"),
        ("link_list", "相关链接:"),
        ("site_footer", "主办单位:青川市教育局 承办:青川市信息中心"),
        ("site_footer", "网站标识码:6209000012 陇ICP备09001234号"),
        ("site_footer", "甘公网安备 62090202000123号"),
    ]
    assert r.quality["boilerplate_removed_chars"] == sum(len(p.text) for p in r.removed)
    assert r.html_meta == {"published_at": "2023-08-28"}
    meta = extract_metadata(r.text, html_meta=r.html_meta)
    assert (meta["published_at"], meta["date"]) == ("2023-08-28", "2023-08-25")
    assert meta["title"] == "青川市教育局关于做好2023年秋季学期职业院校招生工作的通知"


def test_traditional_portal_page_is_cleaned_in_both_scripts() -> None:
    r = clean_document(
        "首頁 » 政務公開 » 通知公告\n發佈日期:2023年08月28日\n關於舉辦技能大賽的通知\n請各單位認真組織。\n【關閉窗口】"
    )
    assert r.text == "关于举办技能大赛的通知\n请各单位认真组织。"
    assert r.text_original_script == "關於舉辦技能大賽的通知\n請各單位認真組織。"
    assert [p.kind for p in r.removed] == ["breadcrumb", "publish_info", "page_tools"]
    assert r.html_meta == {"published_at": "2023-08-28"}


@pytest.mark.parametrize(
    "line",
    [
        "首页 > 政务公开 > 政策文件",
        "首页>>新闻中心>>通知公告",
        "首页 » 政务公开 » 政策解读",
        "首页 → 信息公开 → 关于支持职业教育发展的若干措施",
        "首页-政务公开-政策文件",
        "网站首页 / 政务公开",
        "当前位置:首页 > 政务公开",
        "您现在的位置:首页 > 政策文件",
        "当前位置:政务公开 > 通知公告",
        "当前位置:",
    ],
)
def test_breadcrumbs_are_removed(line: str) -> None:
    r = clean_document(f"{line}\n关于开展技能培训的通知\n请认真落实。")
    assert r.text == "关于开展技能培训的通知\n请认真落实。"
    assert [(p.kind, p.text) for p in r.removed] == [("breadcrumb", line)]


@pytest.mark.parametrize(
    ("line", "kind", "published"),
    [
        ("发布时间:2023-08-28 来源:青川市人民政府", "publish_info", "2023-08-28"),
        ("发布日期:2023年8月28日 浏览次数:", "publish_info", "2023-08-28"),
        ("[发布日期:2023-08-28] [来源:青川市人民政府] [点击数:88]", "publish_info", "2023-08-28"),
        (
            "来源:青川市人民政府 发布时间:2023/8/28 【字体:大 中 小】【打印】",
            "publish_info",
            "2023-08-28",
        ),
        ("日期:2023-08-28 作者:青川市人民政府办公室", "publish_info", "2023-08-28"),
        ("作者:张华 浏览量:12", "publish_info", None),
        ("发布时间:2023-08-28", "publish_info", "2023-08-28"),  # lone, at the top: furniture
        ("字号:大 中 小 | 打印 | 关闭", "page_tools", None),
        ("[打印本页] [关闭窗口] [返回顶部]", "page_tools", None),
    ],
)
def test_publication_lines_and_page_tools_are_removed(
    line: str, kind: str, published: str | None
) -> None:
    r = clean_document(f"{line}\n关于开展技能培训的通知\n请认真落实。")
    assert r.text == "关于开展技能培训的通知\n请认真落实。"
    assert [(p.kind, p.text) for p in r.removed] == [(kind, line)]
    assert r.html_meta.get("published_at") == published


BODY = "\n".join(f"{n}.各单位要按照要求做好第{n}项工作。" for n in range(1, 13))


@pytest.mark.parametrize(
    "line",
    [
        # words of the furniture inside body sentences
        "招生计划以网站首页公布的为准,来源不明的信息一律无效。",
        "首页设计应当简洁,栏目不超过八个。",
        "资金来源:市级财政专项资金",
        "各网站要在首页底部标注网站标识码、ICP备案编号和公安机关备案号。",
        # field-like lines that are the document's own
        "时间:每周三下午 地点:市政府三楼会议室",
        "会议时间:2023-09-01",
        "索引号:11620900/2023-00012 发文字号:青政发〔2023〕5号 发布日期:2023-08-28",
        "位置:青川市城关区建设路",
        # weaker furniture in the middle of a long text: not at the page's edges
        "发布日期:2023-08-28",
        "主办单位:青川市教育局 承办单位:青川市职业技术学院",
    ],
)
def test_body_lines_that_look_like_furniture_are_kept(line: str) -> None:
    text = f"关于开展技能大赛的通知\n{BODY}\n{line}\n{BODY}"
    assert clean_document(text).text == text


def test_host_line_at_the_end_goes_only_beside_a_site_footer() -> None:
    notice = "关于开展技能大赛的通知\n请各单位认真组织。\n主办单位:青川市教育局"
    assert clean_document(notice).text == notice
    r = clean_document(notice + "\n网站标识码:6209000012")
    assert r.text == "关于开展技能大赛的通知\n请各单位认真组织。"
    assert [p.kind for p in r.removed] == ["site_footer", "site_footer"]
