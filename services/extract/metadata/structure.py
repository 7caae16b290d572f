"""Outline (the numbered headings of 公文 prose) and quantified targets."""

from __future__ import annotations

import re

_HEADINGS = (
    (1, re.compile(r"^第[一二三四五六七八九十百]+[章编]\s*\S")),
    (1, re.compile(r"^[一二三四五六七八九十]{1,3}、\s*\S")),
    (2, re.compile(r"^[(（][一二三四五六七八九十]{1,3}[)）]\s*\S")),
    (3, re.compile(r"^\d{1,2}[.．、]\s*[^\d\s]")),
)
MAX_OUTLINE = 200

_MULTIPLIER = {"万": 10_000, "亿": 100_000_000, "千": 1_000, "百": 100}
TARGET = re.compile(
    r"(\d+(?:\.\d+)?)\s*(万|亿|千)?\s*"
    r"(元|%|个百分点|个月|个|所|人次|人|家|项|亩|平方公里|公里|套|名|门|本|支)"
)
_CUE = re.compile(
    r"到20\d{2}年|达到|建成|培育|新增|不低于|不少于|以上|安排|列支|投入|每年|累计|力争|超过"
)
_CLAUSE = re.compile(r"[^，,；;。！!\n]+")


def outline(lines: list[str]) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for line in lines:
        text = line.strip()
        if not text or len(found) >= MAX_OUTLINE:
            continue
        for level, pattern in _HEADINGS:
            if pattern.match(text):
                title = re.split(r"[。；;]", text, maxsplit=1)[0]
                if len(title) <= 60:
                    found.append({"level": level, "title": title})
                break
    return found


def targets(text: str, *, limit: int = 30) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for clause_match in _CLAUSE.finditer(text):
        clause = clause_match.group().strip()
        if len(clause) > 120 or not _CUE.search(clause):
            continue
        m = TARGET.search(clause)
        if m is None or re.match(r"^(19|20)\d{2}$", m.group(1)):
            continue
        value = float(m.group(1)) * _MULTIPLIER.get(m.group(2) or "", 1)
        found.append(
            {
                "text": clause,
                "value": int(value) if value.is_integer() else value,
                "unit": m.group(3),
            }
        )
        if len(found) >= limit:
            break
    return found
