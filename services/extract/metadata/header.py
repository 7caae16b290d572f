"""Title, issuers and the document's own date: read from the 公文 header and signature.

GB/T 9704-2012 puts 发文机关标志, 发文字号 and 标题 at the top and 发文机关署名 + 成文日期
at the end of the body. Scraped copies add site headers and clickbait lines before the
title and furniture after the signature, and a 印发 notice carries the signed notice
first and the document it issues after it; the rules below follow that layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.extract.metadata.dates import DATE, parse
from services.extract.metadata.numbers import DOC_NUMBER
from services.extract.metadata.vocabulary import doc_type_of

ORG_SUFFIX = (
    "人民政府办公厅|人民政府办公室|人民政府|人民代表大会常务委员会|办公厅|办公室|委员会|"
    "管理委员会|管委会|领导小组|工作小组|联席会议|教育局|财政局|局|厅|部|委|署|院|中心|"
    "协会|联合会|总工会|团委|党委|政府|学院|学校|大学|集团"
)
ORG = re.compile(rf"[\u4e00-\u9fa5（）()]{{2,30}}?(?:{ORG_SUFFIX})")
ORG_LINE = re.compile(rf"^(?:{ORG.pattern})(?:[\s、,，]+(?:{ORG.pattern}))*$")
CLICKBAIT = re.compile(r"[!！?？]$|重磅|刚刚|速看|最新发布|权威发布|转发收藏|快看|必看")
BREADCRUMB = re.compile(r"\s[>›»/]\s|^(首页|当前位置|您的位置|您现在的位置)")
NOT_TITLE = re.compile(
    r"^(来源|发布|时间|日期|作者|编辑|责任编辑|字号|浏览|阅读|索引号|主题分类|发布机构|"
    r"各[\u4e00-\u9fa5]|[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）]|\d+[.．、])"
)
SENTENCE_END = re.compile(r"[。；;:：]$")
TITLE_MAX_LINES = 4
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
# `齐齐哈尔市教育局职业教育…经验`: a title that starts with a local body's full name.
TITLE_ORG = re.compile(
    r"^([\u4e00-\u9fa5]{2,12}?(?:市|省|区|县|盟|州))([\u4e00-\u9fa5]{1,8}?(?:人民政府|教育局|局|厅|委员会|办公室))"
)
HEADER_LINES = 12


@dataclass(slots=True)
class Found:
    value: object
    start: int
    end: int


def lines_with_offsets(text: str) -> list[tuple[str, int]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((line, pos))
        pos += len(line) + 1
    return out


def is_org_line(line: str) -> bool:
    s = line.strip()
    return bool(s) and len(s) <= 60 and ORG_LINE.match(s) is not None


def split_orgs(text: str) -> list[str]:
    """Organisation names in an issuer line: separated by spaces or 、, else run together."""
    parts = [p for p in re.split(r"[\s、,，]+", text.strip()) if p]
    if parts and all(ORG.fullmatch(p) for p in parts):
        return parts
    return [m.group() for m in ORG.finditer(text) if m.group()]


def _balanced(text: str) -> bool:
    return text.count("《") <= text.count("》") and text.count("〈") <= text.count("〉")


def _title_start(line: str) -> bool:
    s = line.strip()
    if not s or len(s) > 80 or SENTENCE_END.search(s) or CLICKBAIT.search(s):
        return False
    if NOT_TITLE.match(s) or BREADCRUMB.search(s) or DOC_NUMBER.fullmatch(s) or DATE.fullmatch(s):
        return False
    return not is_org_line(s)


def find_title(text: str) -> Found | None:
    lines = [(line, pos) for line, pos in lines_with_offsets(text)[:HEADER_LINES] if line.strip()]
    for i, (line, pos) in enumerate(lines):
        s = line.strip()
        starts = _title_start(s) or ("关于" in s and not SENTENCE_END.search(s) and len(s) <= 80)
        if not starts:
            continue
        parts, end = [s], pos + len(line)
        # Join a title broken over lines: open 《〈 brackets, or no kind word yet.
        j = i + 1
        while (
            j < len(lines)
            and len(parts) < TITLE_MAX_LINES
            and (
                not _balanced("".join(parts))
                or (doc_type_of(parts[-1]) is None and "关于" in "".join(parts))
            )
        ):
            nxt = lines[j][0].strip()
            if DOC_NUMBER.search(nxt) or SENTENCE_END.search(nxt) or len(nxt) > 80:
                break
            parts.append(nxt)
            end = lines[j][1] + len(lines[j][0])
            j += 1
        title = "".join(parts)
        title = re.sub(r"\s+(?=关于)", "", title)  # `兰州市人民政府 关于…` header layout
        if len(title) < 5 or not _balanced(title):
            continue
        if (
            doc_type_of(title) is None
            and "关于" not in title
            and i > 0
            and not _short_heading(title)
        ):
            continue
        return Found(title, pos + (len(line) - len(line.lstrip())), end)
    return None


def _short_heading(title: str) -> bool:
    return 6 <= len(title) <= 40 and not re.search(r"[，,。]", title)


def issuers_from_title(title: str) -> list[str]:
    if "关于" not in title:
        from services.extract.metadata.regions import gazetteer

        m = TITLE_ORG.match(title)
        return [m.group(0)] if m and m.group(1) in gazetteer() else []
    head = title.split("关于", 1)[0]
    head = head.strip()
    if not head or not ORG_LINE.match(head.replace(" ", " ")):
        orgs = split_orgs(head) if head else []
        return [o for o in orgs if o == head or len(orgs) > 1]
    return split_orgs(head)


def signature(text: str) -> tuple[Found | None, Found | None]:
    """(issuers, date) from a signature: org line(s) followed by a date alone on a line,
    or `机关 2021年3月22日` on one line. The first signature in the text wins (a 印发
    notice's own signature comes before the document it issues)."""
    lines = lines_with_offsets(text)
    for i, (line, pos) in enumerate(lines):
        # Every date ends in 日: most lines are prose without one, and stripping,
        # translating and searching each of them was 4 % of the extract workers' CPU.
        if "日" not in line:
            continue
        # Full-width digits are read as ASCII (same length, so offsets stay right).
        s = line.strip().strip("()（）").translate(_FULLWIDTH)
        if not s:
            continue
        m = DATE.search(s)
        if m is None:
            continue
        before, after = s[: m.start()].strip(), s[m.end() :].strip(" )）")
        if after:
            continue
        date = parse(m)
        if date is None:
            continue
        offset = pos + line.translate(_FULLWIDTH).index(s)
        date_found = Found(date.isoformat(), offset + m.start(), offset + m.end())
        if before and is_org_line(before):
            return Found(split_orgs(before), offset, offset + len(before)), date_found
        if not before:
            orgs: list[str] = []
            start = end = 0
            for prev, ppos in reversed(lines[max(0, i - 3) : i]):
                if is_org_line(prev):
                    orgs = split_orgs(prev.strip()) + orgs
                    start, end = ppos, end or ppos + len(prev)
                elif prev.strip():
                    break
            issuers = Found(orgs, start, end) if orgs else None
            # A bare date line counts only when it closes a signature or the header.
            if issuers or i < HEADER_LINES:
                return issuers, date_found
    return None, None


def header_issuers(text: str) -> Found | None:
    """发文机关标志: an organisation-only line among the first lines."""
    for line, pos in lines_with_offsets(text)[:4]:
        s = line.strip()
        if s and is_org_line(s):
            s = re.sub(r"(文件|办公室文件)$", "", s)
            return Found(split_orgs(s), pos, pos + len(line))
    return None
