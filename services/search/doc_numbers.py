"""Normalise 发文字号 for the keyword field, so bracket variants find each other.

The extract side normalises what it extracts; the search side must also normalise what
users type (`兰政发[2021]13号`), and services do not import each other, hence this copy of
the small rule: brackets of any width to 〔〕, full-width digits to ASCII, no spaces.
"""

from __future__ import annotations

import re

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_YEAR = re.compile(r"[\[\(（［〔【{｛]\s*((?:19|20)\d{2})\s*[\]\)）］〕】}｝]")
_SHAPE = re.compile(r"^\S{1,30}〔(19|20)\d{2}〕\d{1,5}号$")


def normalize_doc_number(value: str) -> str | None:
    text = re.sub(r"\s+", "", value.translate(_FULLWIDTH_DIGITS))
    text = _YEAR.sub(lambda m: f"〔{m.group(1)}〕", text)
    if not text.endswith("号") and re.search(r"〔\d{4}〕\d+$", text):
        text += "号"
    return text if _SHAPE.match(text) else None


def looks_like_doc_number(query: str) -> bool:
    return normalize_doc_number(query) is not None
