"""Remove pinyin annotations that conversion sites insert after converted characters.

`落實(shí)` → `落實`, `(以下簡(jiǎn)稱聯(lián)合體)` → `(以下簡稱聯合體)`. Only a parenthesised,
lower-case, valid pinyin syllable right after a Han character is removed, so real
parentheses survive: `(一)`, `縣(市)`, `(2023)`, `人工智能(AI)`. Hand-written because no
library removes these; the syllable grammar below is the standard pinyin table.

Where the site also damaged the characters (`當?shù)卣畬`, `禺a(chǎn)業`), the annotation is
no longer after a Han character or has lost its `(`: a tone-marked syllable there is
still removed (real text never writes one), and the damage stays flagged by `damage.py`.
"""

from __future__ import annotations

import re

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_INITIALS = "(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
_FINALS = (
    "(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ei|ao|ou|an|en|in|un|vn|ia|ie|iu|"
    "ua|uo|ui|ue|ve|er|a|o|e|i|u|v|m|n|ng)"
)
# Tone marks are folded to plain vowels before matching the syllable grammar.
_FOLD = str.maketrans(
    {
        **dict.fromkeys("āáǎà", "a"),
        **dict.fromkeys("ēéěè", "e"),
        **dict.fromkeys("īíǐì", "i"),
        **dict.fromkeys("ōóǒò", "o"),
        **dict.fromkeys("ūúǔù", "u"),
        **dict.fromkeys("ǖǘǚǜü", "v"),
        **dict.fromkeys("ńňǹ", "n"),
        "ḿ": "m",
    }
)
_SYLLABLE = re.compile(f"^{_INITIALS}{_FINALS}$")
_CANDIDATE = re.compile(rf"(?<=[\u3400-\u9fff\uf900-\ufaff])[(（]([a-z{_TONED}]{{1,6}})[)）]")
# After damage: `a(chǎn)` (the character before it mangled to a Latin letter) or `?shù)`
# (the `(` lost with the character). Only tone-marked syllables: `ABC(de)` stays.
_DAMAGED = re.compile(
    rf"(?:(?<=[A-Za-z])[(（]|(?<=\?)[(（]?)([a-z{_TONED}]{{0,5}}[{_TONED}][a-z{_TONED}]{{0,5}})[)）]"
)


def _is_pinyin(word: str) -> bool:
    return bool(_SYLLABLE.match(word.translate(_FOLD)))


def strip_pinyin_annotations(text: str) -> tuple[str, int]:
    """Returns the text without annotations and how many were removed."""
    removed = 0

    def _replace(match: re.Match[str]) -> str:
        nonlocal removed
        if _is_pinyin(match.group(1)):
            removed += 1
            return ""
        return match.group(0)

    text = _CANDIDATE.sub(_replace, text)
    if ")" in text or "）" in text:
        text = _DAMAGED.sub(_replace, text)
    return text, removed
