"""成文日期 and other dates written the 公文 way: `2021年3月22日`, `二〇二一年三月二十二日`.

Hand-written because date libraries (dateparser, dateutil) read neither the Chinese
numeral form nor the `〇` year digits reliably, and the rule is tiny and fixed.
"""

from __future__ import annotations

import re
from datetime import date

_DIGIT = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "O": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN = "〇○零O一二三四五六七八九十"
DATE = re.compile(
    rf"((?:19|20)\d{{2}}|[{_CN}]{{4}})\s*年\s*(\d{{1,2}}|[{_CN}]{{1,3}})\s*月\s*"
    rf"(\d{{1,2}}|[{_CN}]{{1,3}})\s*日"
)
ISO_DATE = re.compile(r"((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})")


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if len(text) == 4 and all(ch in _DIGIT for ch in text):  # 二〇二一
        return int("".join(str(_DIGIT[ch]) for ch in text))
    if "十" in text:  # 十, 十二, 二十, 二十二, 三十一
        tens, _, ones = text.partition("十")
        t = _DIGIT.get(tens, 0) if tens else 1
        o = _DIGIT.get(ones, 0) if ones else 0
        return t * 10 + o
    if len(text) == 1 and text in _DIGIT:
        return _DIGIT[text]
    return None


def parse(match: re.Match[str]) -> date | None:
    y, m, d = (_number(g) for g in match.groups())
    if y is None or m is None or d is None:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def find_dates(text: str) -> list[tuple[date, int, int]]:
    found = []
    for match in DATE.finditer(text):
        value = parse(match)
        if value is not None:
            found.append((value, match.start(), match.end()))
    return found
