"""Government-portal page furniture left when a page is copied as plain text.

Breadcrumbs (`首页 > 政务公开 > 政策文件`), the publication line (`发布时间:… 来源:…
浏览次数:…`), page tools (`【字体:大 中 小】`, `【打印本页】【关闭窗口】`, `【我要纠错】`) and the
site footer (`主办单位:… 承办:…`, `网站标识码:…`, `…ICP备…号`, `…公网安备…号`).
Hand-written because it is specific to Chinese government sites (no library knows
网站标识码 or 【关闭窗口】), and trafilatura only helps when the HTML is there.

Two strengths, so that body text is never cut:
- whole-line furniture (a breadcrumb with separators, a publication line with two or more
  fields, a line made only of page tools, a registration-number footer) goes wherever it
  stands: its whole shape is furniture;
- weaker lines (a lone `发布日期:2023-08-28`, a lone `当前位置:`, `主办单位:…`) go only
  at the page's edges (`edge`), and a 主办 line only with a registration footer beside it
  or as the site's own `主办… 承办…` pair on one of the last lines.
Words such as 首页 or 来源 inside a sentence never match: every pattern is a whole line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# Page tools, with or without brackets: `【字体:大 中 小】`, `[打印本页]`, `关闭窗口`.
_TOOL = re.compile(
    r"[【\[〔(（]?\s*(?:"
    r"字[体号]\s*[:：]?\s*[【\[(（]?\s*[大中小]\s*[大中小]?\s*[大中小]?\s*[】\])）]?|"
    r"打印(?:本页|此页|本文|文章|页面)?|关闭(?:本页|窗口|页面|本窗口)?|我要纠错|纠错|"
    r"(?:加入)?收藏(?:本页)?|返回顶部|返回(?:首页|列表)?|保存本页|"
    r"分享到\s*[:：]?|扫一扫在手机(?:上)?(?:打开|浏览)(?:当前|本)页"
    r")\s*[】\]〕)）]?"
)
_TOOL_FILLER = re.compile(r"[\s|｜·•/、,，]+")

# Publication line fields; longest labels first (regex alternation is ordered).
_DATE_LABELS = ("发布时间", "发布日期", "发表时间", "更新时间", "日期", "时间")
_VIEW_LABELS = (
    "浏览次数",
    "浏览量",
    "点击次数",
    "点击数",
    "点击量",
    "点击率",
    "阅读次数",
    "阅读量",
    "访问量",
    "访问次数",
)
_OTHER_LABELS = (
    "信息来源",
    "文章来源",
    "稿件来源",
    "来源",
    "发布机构",
    "发布单位",
    "发布者",
    "作者",
    "责任编辑",
    "编辑",
)
_LABELS = sorted((*_DATE_LABELS, *_VIEW_LABELS, *_OTHER_LABELS), key=len, reverse=True)
_FIELD = re.compile(rf"[【\[(（]?\s*({'|'.join(_LABELS)})\s*[:：]")
_SINGLE_DATE_LABELS = frozenset(("发布时间", "发布日期", "发表时间", "更新时间"))
_DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_DATE_VALUE = re.compile(rf"^{_DATE.pattern}(?:\s*\d{{1,2}}[:：]\d{{2}}(?:[:：]\d{{2}})?)?$")

# Breadcrumbs: `当前位置:首页 > 政务公开 > 政策文件`, `首页»政策»正文`, `首页-政务公开`.
_WHERE = re.compile(r"^(?:您(?:当前|现在)?所?在?的?位置是?|当前(?:所在)?位置)\s*[:：]?\s*")
_HOME = re.compile(r"^(?:网站首页|首\s?页|主页)")
_CRUMB_SEP = re.compile(r"\s*(?:->|>>|=>|[>＞»›→\-－—/])\s*")
_CRUMB = re.compile(r"^[^\s。，；！？!?,;:：]{1,15}$")
_CRUMB_LAST = re.compile(r"^[^。；！？!?;]{1,60}$")

# Site footer: registration numbers are unmistakable; 主办/承办 lines are weaker.
# A number must follow: a sentence about 网站标识码 or ICP备案 in a notice on government
# websites is body text.
_REGISTRATION = re.compile(
    r"网站标识码\s*[:：]?\s*[A-Za-z]*\d{6,}|ICP\s*[备证]\s*\d{5,}\s*号|公网安备\s*\d{8,}\s*号"
)
_HOST_LABEL = re.compile(
    r"(?:主办单位|主办|承办单位|承办|协办单位|协办|技术支持|运维单位|维护单位)\s*[:：]"
)


@dataclass(frozen=True, slots=True)
class Furniture:
    kind: str  # breadcrumb, publish_info, page_tools, site_footer
    published_at: str | None = None  # ISO date of a publication line


def is_registration_footer(line: str) -> bool:
    return len(line) <= 150 and "。" not in line and bool(_REGISTRATION.search(line))


def portal_furniture(
    line: str, *, edge: bool, tail: bool, footer_nearby: bool, last_lines: bool
) -> Furniture | None:
    """What kind of furniture a whole (stripped, simplified) line is, or None.

    `edge`: the line is among the first or last lines of the page; `tail`: among the
    last; `footer_nearby`: a registration footer is among the last lines; `last_lines`:
    the line is one of the last three.
    """
    if len(line) > 150:
        return None
    if is_registration_footer(line):
        return Furniture("site_footer")
    if _is_page_tools(line):
        return Furniture("page_tools")
    if crumb := _breadcrumb(line):
        return Furniture("breadcrumb") if crumb == "strong" or edge else None
    published = _publish_info(line, edge=edge)
    if published is not None:
        return Furniture("publish_info", published or None)
    if tail and _HOST_LABEL.match(line) and len(line) <= 100:
        hosts = len(_HOST_LABEL.findall(line))
        if footer_nearby or (hosts >= 2 and last_lines):
            return Furniture("site_footer")
    return None


def _is_page_tools(line: str) -> bool:
    if len(line) > 80:
        return False
    rest, found = _TOOL.subn(" ", line)
    return found > 0 and not _TOOL_FILLER.sub("", rest)


def _breadcrumb(line: str) -> str | None:
    """'strong' for a breadcrumb with separators, 'weak' for a lone `当前位置:`."""
    where = _WHERE.match(line)
    rest = line[where.end() :] if where else line
    if where and not rest:
        return "weak"
    if not where and not _HOME.match(rest):
        return None
    parts = _CRUMB_SEP.split(rest)
    if not where and len(parts) < 2:
        return None
    *head, last = parts
    if all(_CRUMB.match(p) for p in head) and _CRUMB_LAST.match(last):
        return "strong"
    return None


def _publish_info(line: str, *, edge: bool) -> str | None:
    """'' or the ISO date for a publication line (`发布时间:… 来源:… 浏览次数:…`), else None.

    Every part of the line must be a known field: a line that also names 发文字号 or
    成文日期 (a portal's metadata table) is the document's, and stays.
    """
    text = _TOOL.sub(" ", line).strip()
    fields = list(_FIELD.finditer(text))
    if not fields or fields[0].start() != 0:
        return None
    labels, values = [], []
    for i, f in enumerate(fields):
        end = fields[i + 1].start() if i + 1 < len(fields) else len(text)
        value = text[f.end() : end].strip(" 】]）)")
        if len(value) > 40 or re.search(r"[。；;!！?？]", value):
            return None
        labels.append(f.group(1))
        values.append(value)
    pairs = list(zip(labels, values, strict=True))
    if any(lab in _DATE_LABELS and v and not _is_date(v) for lab, v in pairs):
        return None  # `时间:每周三下午` is a schedule, not a publication line
    dated = [v for lab, v in pairs if lab in _DATE_LABELS and v]
    views = any(lab in _VIEW_LABELS for lab in labels)
    several = len(pairs) >= 2 and bool(dated or views)
    lone_date = len(pairs) == 1 and bool(dated) and labels[0] in _SINGLE_DATE_LABELS and edge
    if not (several or lone_date):
        return None
    return _iso(dated[0]) if dated else ""


def _is_date(value: str) -> bool:
    return bool(_DATE_VALUE.match(value)) and _iso(value) is not None


def _iso(value: str) -> str | None:
    m = _DATE.search(value)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None
