"""Remove what scraping leaves around a policy text: headers, footers, link lists.

Hand-written because it is specific to Chinese government and WeChat pages (no library
knows 来源丨 or 最新加入); trafilatura handles HTML, and still leaves "相关文件" lists on
4 of 5 pages (MEASUREMENTS.md), so this runs on its output too. Every removed line is
kept with its kind, so a user can see what was cut. Government-portal furniture
(breadcrumbs, publication line, page tools, site footer) is recognised in `portal.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.extract.cleaning.portal import is_registration_footer, portal_furniture

URL = re.compile(r"https?://[^\s\"'<>，。）)]+")
SOURCE_URL_LINE = re.compile(
    r"^\s*(?:原文链接|原文地址|原文网址|文章链接|本文链接|链接)\s*[:：]?\s*(https?://\S+)"
)
SOURCE_LINE = re.compile(r"^\s*(?:来源|來源|文章来源|信息来源|稿件来源|转自|转载自)\s*[丨|｜:：/]")
_ROLE = (
    r"(?:编辑|編輯|责任编辑|責任編輯|责编|审核|審核|校对|校對|终审|排版|美编|作者|撰稿|供稿"
    r"|文字|图片|摄影)"
)
# One or several credits on a line: `编辑/李晓`, `编辑/李晓 审核/王强`.
EDITOR_LINE = re.compile(rf"^\s*(?:{_ROLE}\s*[丨|｜:：/]\s*[^\s丨|｜:：/]{{1,20}}\s*)+$")
COPYRIGHT = re.compile(
    r"版权归原作者|版權歸原作者|版权所有|版權所有|转载请注明|轉載請註明|未经授权.{0,6}转载|copyright",
    re.I,
)
DISCLAIMER = re.compile(
    r"免责声明|免責聲明|本公众平台|本公眾平台|本号观点|本號觀點|不代表本(?:号|站|平台|网)|"
    r"如涉及侵权|如有侵权|侵权请联系|侵權請聯繫|我们将(?:在第一时间|及时)(?:处理|删除)|"
    r"仅供(?:参考|学习交流)|部分源自互联网|无法核实真实出处|均为商家提供推广"
)
SHARE = re.compile(
    r"点击(?:上方|下方|蓝字|右上角)|关注我们|关注公众号|长按(?:识别|二维码)|扫一扫|扫码关注|分享到|"
    r"转发给|点个?[赞在]看|阅读原文|点击阅读|微信号[:：]|小编|喜欢就"
)
LIST_HEADER = re.compile(
    r"^\s*(?:最新加入|热门资讯|热点资讯|相关阅读|相关文章|相关新闻|相关链接|相关文件|推荐阅读|猜你喜欢|"
    r"延伸阅读|往期回顾|往期推荐|精彩推荐|更多阅读|热门推荐|最新资讯|最新文章|热门文章|相关推荐)\s*[:：]?\s*$"
)
LIST_ITEM = re.compile(
    r"^\s*(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}.{0,40}|.{1,30}(?:\.{2,}|…+)\s*(?:\d{4}-\d{2}-\d{2})?|[·•]\s*.{1,40})\s*$"
)
CLICKBAIT = re.compile(r"[!！]{1,3}\s*$|重磅|刚刚|速看|官宣|紧急通知|必看|收藏|扩散|转给")
# Portal furniture that is not unmistakable on its own shape (a lone 发布日期, 主办单位)
# is removed only this close to the start or the end of the page.
HEAD_LINES = 6
TAIL_LINES = 8
STRUCTURE = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d+[.、．]|第[一二三四五六七八九十百]+[章条节])"
)


@dataclass(frozen=True, slots=True)
class RemovedPart:
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class BoilerplateResult:
    lines: list[str]
    removed: list[RemovedPart]
    source_url: str | None
    published_at: str | None = None  # ISO date of a removed portal publication line


def remove_boilerplate(lines: list[str]) -> BoilerplateResult:
    removed: list[RemovedPart] = []
    source_url: str | None = None
    keep: list[str] = []
    in_list = False
    body_seen = 0
    published_at: str | None = None
    tail_from = len(lines) - TAIL_LINES
    footer_nearby = any(is_registration_footer(x.strip()) for x in lines[tail_from:])
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if m := SOURCE_URL_LINE.match(stripped):
            source_url = source_url or m.group(1).rstrip("。，,.;；")
            removed.append(RemovedPart("source_url", stripped))
            continue
        furniture = portal_furniture(
            stripped,
            edge=index < HEAD_LINES or index >= tail_from,
            tail=index >= tail_from,
            footer_nearby=footer_nearby,
            last_lines=index >= len(lines) - 3,
        )
        if furniture:
            published_at = published_at or furniture.published_at
            removed.append(RemovedPart(furniture.kind, stripped))
            continue
        if LIST_HEADER.match(stripped):
            in_list = True
            removed.append(RemovedPart("link_list", stripped))
            continue
        if in_list:
            if LIST_ITEM.match(stripped) or len(stripped) <= 24:
                removed.append(RemovedPart("link_list", stripped))
                continue
            in_list = False
        kind = _line_kind(stripped, is_first=not keep and index < 3, tail=index >= len(lines) * 0.5)
        if kind:
            removed.append(RemovedPart(kind, stripped))
            continue
        keep.append(line)
        body_seen += 1
    keep = _drop_trailing_list_items(keep, removed)
    return BoilerplateResult(
        lines=keep, removed=removed, source_url=source_url, published_at=published_at
    )


def _line_kind(line: str, *, is_first: bool, tail: bool) -> str | None:
    if is_first and len(line) <= 40 and CLICKBAIT.search(line) and not STRUCTURE.match(line):
        return "clickbait_header"
    if SOURCE_LINE.match(line):
        return "source_line"
    if EDITOR_LINE.match(line):
        return "editor_line"
    if COPYRIGHT.search(line) and len(line) <= 120:
        return "copyright"
    if DISCLAIMER.search(line) and (tail or len(line) <= 120):
        return "disclaimer"
    if SHARE.search(line) and len(line) <= 60:
        return "share_prompt"
    return None


def _drop_trailing_list_items(lines: list[str], removed: list[RemovedPart]) -> list[str]:
    """Date-stamped link items left at the very end without a header line."""
    while lines and re.match(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\S{0,30}\s*$", lines[-1]):
        removed.append(RemovedPart("link_list", lines.pop().strip()))
    return lines
