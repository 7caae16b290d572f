"""Regenerate `variants/` and `pairs.jsonl` from the hand-written texts in `base/`.

The base texts are written for this set (not scraped). Variants are what sites do to a
republished notice: another script, full-width digits and PDF line breaks, a WeChat or
portal header/footer, edited sentences, a dropped paragraph, an excerpt. Run from the
repository root: `.venv/bin/python tests/data/dedupe_eval/make_variants.py`.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import opencc

HERE = Path(__file__).parent
BASE = HERE / "base"
OUT = HERE / "variants"

WECHAT_HEAD = "{site}\n重磅!事关你我,{site}最新通知来了,速看!\n"
WECHAT_FOOT = (
    "\n来源:{site}\n编辑:李明 责任编辑:王芳\n审核:赵强\n"
    "免责声明:本号转载内容仅供学习交流,如有侵权请联系删除。\n点击“阅读原文”查看更多\n"
    "原文链接:https://www.example.gov.cn/zwgk/art_1024_5678.html"
)
PORTAL_HEAD = (
    "首页 > 政务公开 > 政策文件\n发布时间:2023-08-28 09:15 来源:{site} 浏览次数:1532\n"
    "【字体:大 中 小】\n"
)
PORTAL_FOOT = (
    "\n【打印本页】【关闭窗口】\n相关链接:\n主办单位:{site} 承办:信息中心\n"
    "网站标识码:6200000001 陇ICP备05001234号"
)

# One edited sentence, then two more and a dropped paragraph, as republishers do.
EDITS: dict[str, dict[str, object]] = {
    "province_template": {
        "site": "甘肃发布",
        "one": [("每年培养现场工程师三千人以上", "每年培养现场工程师三千五百人以上")],
        "more": [
            ("撤并就业率连续两年低于百分之五十的专业", "调减就业质量不高的专业"),
            ("定期研究解决产教融合中的重大问题", "每半年研究一次产教融合中的重大问题"),
        ],
        "drop": "(五)共建共享实训基地",
    },
    "city_lanzhou": {
        "site": "兰州发布",
        "one": [("每年培养现场工程师一千人以上", "每年培养现场工程师一千二百人以上")],
        "more": [
            ("在七里河区、安宁区建设", "在全市建设"),
            ("各县区要明确责任分工和时间节点", "各县区要于8月底前制定工作台账"),
        ],
        "drop": "(四)加强双师型教师队伍建设",
    },
    "insurance_2024": {
        "site": "嘉峪关市医疗保障局",
        "one": [("每人每年380元", "每人每年380元(含大病保险)")],
        "more": [
            ("严禁截留挪用", "严禁截留、挪用、坐支"),
            ("深入开展进村入户宣传活动", "组织医保政策宣传进社区"),
        ],
        "drop": "五、缴费方式",
    },
    "digital_experience": {
        "site": "金昌发布",
        "one": [("已完成诊断一百二十六家", "已完成诊断一百五十家")],
        "more": [
            ("累计培训一千五百余人次", "累计培训两千余人次"),
            ("降低一次性投入", "减轻企业资金压力"),
        ],
        "drop": "三、培育标杆示范",
    },
    "rental_measures": {
        "site": "武威市住房和城乡建设局",
        "one": [("公示期不少于七日", "公示期不少于五个工作日")],
        "more": [
            ("每两年调整一次", "每三年调整一次"),
            ("五年内不得再次申请保障性住房", "三年内不得再次申请保障性住房"),
        ],
        "drop": "第六条",
    },
}


def _replace(text: str, edits: list[tuple[str, str]]) -> str:
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def _drop_paragraph(text: str, start: str) -> str:
    lines = text.split("\n")
    kept = [line for line in lines if not line.startswith(start)]
    assert len(kept) == len(lines) - 1, start
    return "\n".join(kept)


def _pdf_layout(text: str) -> str:
    """Full-width digits and hard line breaks every 38 characters, as PDF extraction gives."""
    wide = text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    out = []
    for line in wide.split("\n"):
        out += [line[i : i + 38] for i in range(0, len(line), 38)] or [""]
    return "\n".join(out)


def _excerpt(text: str, start_share: float, share: float) -> str:
    """Whole lines from `start_share` of the text covering about `share` of it."""
    begin = text.find("\n", int(len(text) * start_share)) + 1
    end = text.find("\n", begin + int(len(text) * share))
    return text[begin : end if end > 0 else None]


def variants(name: str, text: str) -> dict[str, tuple[str, str]]:
    """kind -> (text, expected relation to the base)."""
    spec = EDITS[name]
    site = str(spec["site"])
    one = _replace(text, spec["one"])  # type: ignore[arg-type]
    more = _drop_paragraph(_replace(one, spec["more"]), str(spec["drop"]))  # type: ignore[arg-type]
    return {
        "traditional": (opencc.OpenCC("s2t").convert(text), "exact"),
        "pdf_layout": (_pdf_layout(text), "exact"),
        "wechat": (WECHAT_HEAD.format(site=site) + text + WECHAT_FOOT.format(site=site), "near"),
        "portal": (PORTAL_HEAD.format(site=site) + text + PORTAL_FOOT.format(site=site), "near"),
        "edit_one": (one, "near"),
        "edit_three_drop": (more, "near"),
        "excerpt_half": (_excerpt(text, 0.3, 0.45), "contained_in"),
        "excerpt_fifth": (_excerpt(text, 0.5, 0.2), "contained_in"),
    }


# Different legal documents that look alike: must never be merged.
DIFFERENT = [
    ("province_template", "city_lanzhou", "city plan adapted from the province template"),
    ("province_template", "city_tianshui", "city plan copied almost verbatim, other issuer"),
    ("city_lanzhou", "city_tianshui", "two cities' plans from one template"),
    ("insurance_2024", "insurance_2023", "annual re-issue with a new 发文字号"),
]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    bases = {p.stem: p.read_text(encoding="utf-8") for p in sorted(BASE.glob("*.txt"))}
    pairs = []
    for name in EDITS:
        for kind, (text, expect) in variants(name, bases[name]).items():
            path = OUT / f"{name}.{kind}.txt"
            path.write_text(text, encoding="utf-8")
            pairs.append(
                {
                    "a": f"base/{name}.txt",
                    "b": f"variants/{path.name}",
                    "kind": kind,
                    "same": True,  # one search result: exact copy, republication or excerpt
                    "expect": expect,
                }
            )
    for a, b, why in DIFFERENT:
        pairs.append(
            {
                "a": f"base/{a}.txt",
                "b": f"base/{b}.txt",
                "kind": "template",
                "same": False,
                "expect": "related",
                "note": why,
            }
        )
    listed = {frozenset((a, b)) for a, b, _ in DIFFERENT}
    for a, b in combinations(sorted(bases), 2):
        if frozenset((a, b)) not in listed:
            pairs.append(
                {
                    "a": f"base/{a}.txt",
                    "b": f"base/{b}.txt",
                    "kind": "unrelated",
                    "same": False,
                    "expect": "none",
                }
            )
    with (HERE / "pairs.jsonl").open("w", encoding="utf-8") as f:
        for p in pairs:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
