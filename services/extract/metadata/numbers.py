"""发文字号: find the document's own number and the numbers of documents it cites.

Numbers are normalised to the GB/T 9704 form `机关代字〔年份〕序号号`: any bracket pair
around the year becomes 〔〕, full-width digits become ASCII, spaces go.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
# The bracketed year and serial first (cheap to scan for), then the 机关代字 before it.
_YEAR_SERIAL = re.compile(
    r"[〔\[［(（【]\s*((?:19|20)\d{2}|[１２][０-９]{3})\s*[〕\]］)）】]\s*第?\s*([0-9０-９]{1,5})\s*号"
)
_PREFIX_BEFORE = re.compile(r"([\u4e00-\u9fa5]{1,14})\s*$")
DOC_NUMBER = re.compile(
    r"([\u4e00-\u9fa5]{1,14})\s*[〔\[［(（【]\s*((?:19|20)\d{2}|[１２][０-９]{3})\s*[〕\]］)）】]"
    r"\s*第?\s*([0-9０-９]{1,5})\s*号"
)
# Words that run into a number's 机关代字 in prose: `根据国办发〔2019〕4号` → 国办发.
_LEAD_IN = re.compile(r"^.*(?:根据|按照|依据|依照|参照|印发|落实|贯彻|转发|执行|见|和|及|与|的)")
CITED_TITLE = re.compile(r"《([^《》]{4,120})》\s*$")


@dataclass(frozen=True, slots=True)
class NumberMatch:
    number: str
    start: int
    end: int
    cited_title: str | None  # 《title》 right before it: a citation


def normalize(prefix: str, year: str, serial: str) -> str:
    return f"{prefix}〔{year.translate(_FULLWIDTH)}〕{int(serial.translate(_FULLWIDTH))}号"


def find_numbers(text: str) -> list[NumberMatch]:
    found = []
    for m in _YEAR_SERIAL.finditer(text):
        head = _PREFIX_BEFORE.search(text, max(0, m.start() - 16), m.start())
        if head is None:
            continue
        prefix = _LEAD_IN.sub("", head.group(1))
        if not prefix or len(prefix) > 10:
            continue
        start = head.start(1) + (len(head.group(1)) - len(prefix))
        before = text[max(0, start - 130) : start].rstrip(" (（[【")
        title = CITED_TITLE.search(before)
        found.append(
            NumberMatch(
                normalize(prefix, m.group(1), m.group(2)),
                start,
                m.end(),
                title.group(1) if title else None,
            )
        )
    return found


def own_number(text: str, numbers: list[NumberMatch], header_end: int) -> NumberMatch | None:
    """A number alone on its line in the header area, or the first uncited one there."""
    for n in numbers:
        if n.start > header_end:
            break
        line_start = text.rfind("\n", 0, n.start) + 1
        line_end = text.find("\n", n.end)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        if line.strip(" ()（）") == text[n.start : n.end]:
            return n
    for n in numbers:
        if n.start > header_end:
            break
        if n.cited_title is None and "《" not in text[max(0, n.start - 3) : n.start]:
            return n
    return None
