"""Traditional → simplified with OpenCC (phrase-level), and which script the text was in."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import opencc

Script = Literal["traditional", "simplified", "mixed"]


@lru_cache(maxsize=2)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    return str(_converter("t2s.json").convert(text))


def detect_script(text: str, simplified: str) -> Script:
    """Compare how many characters t2s changed with how many s2t would change."""
    changed_by_t2s = _differences(text, simplified)
    if changed_by_t2s == 0:
        return "simplified"
    changed_by_s2t = _differences(text, str(_converter("s2t.json").convert(text)))
    if changed_by_s2t == 0:
        return "traditional"
    share = changed_by_t2s / (changed_by_t2s + changed_by_s2t)
    if share >= 0.9:
        return "traditional"
    if share <= 0.1:
        return "simplified"
    return "mixed"


def _differences(a: str, b: str) -> int:
    if len(a) == len(b):
        return sum(1 for x, y in zip(a, b, strict=True) if x != y)
    return abs(len(a) - len(b)) + sum(1 for x, y in zip(a, b, strict=False) if x != y)
