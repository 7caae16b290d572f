"""Detect damaged text: mis-decoding, replacement characters, truncation.

Repairs are made only when certain: a whole text that is UTF-8 read as GBK (or the
reverse) round-trips exactly and the result is more plausible Chinese. Mangled runs like
`當?shù)卣畬` (characters lost by a conversion site) cannot be restored: they are flagged.
"""

from __future__ import annotations

import re

QUESTION_IN_HAN = re.compile(r"[\u3400-\u9fff]\?+[\u3400-\u9fffa-zāáǎàēéěèīíǐìōóǒòūúǔù]")
# Characters that UTF-8 bytes of common Chinese text turn into when decoded as GBK.
UTF8_AS_GBK = re.compile(r"[鍙鏂绗涓鐨鍦鎴浜閲鐢瀵鏉鍏鍚鍒鏄鏃缁璇瀛鎬]{3,}|銆[傝€]|锛[屼氬]")
SENTENCE_START = re.compile(
    r"^\s*(?:[\d]+[.、．]|[(（][\d一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、)"
)
FRAGMENT_START = re.compile(
    r"^\s*(?:(?:[2-9]|\d{2,})[.、．]|[(（](?:[二三四五六七八九十]|\d{2,})[)）]|[二三四五六七八九十]+、)"
)
TERMINAL = tuple("。！？!?」』”）)…")


def count_suspicious(text: str) -> int:
    return len(QUESTION_IN_HAN.findall(text)) + len(UTF8_AS_GBK.findall(text))


def repair_whole_text(text: str) -> tuple[str, bool]:
    """Undo a whole-text wrong decode (UTF-8 bytes read as GBK), when it round-trips."""
    if not UTF8_AS_GBK.search(text):
        return text, False
    try:
        repaired = text.encode("gb18030").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text, False
    return (
        (repaired, True) if count_suspicious(repaired) < count_suspicious(text) else (text, False)
    )


def looks_like_fragment(lines: list[str]) -> bool:
    """Starts in the middle of a numbered list (item 14., (三), 四、) or ends mid-sentence."""
    if not lines:
        return False
    first, last = lines[0].strip(), lines[-1].strip()
    starts_midway = bool(FRAGMENT_START.match(first))
    ends_midway = bool(last) and not last.endswith(TERMINAL) and len(last) > 30 and "|" not in last
    return starts_midway or ends_midway
