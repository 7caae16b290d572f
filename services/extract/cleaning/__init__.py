"""The cleaning stage's pure function: decoded original → clean simplified text.

Order: main text from HTML (trafilatura) → character normalisation → certain mojibake
repair → pinyin-annotation removal → traditional → simplified (OpenCC t2s) → per-line
boilerplate removal → line joining. Line decisions are made on the simplified line and
applied to both versions, so `text` and `text_original_script` keep the same lines.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from services.extract.cleaning.boilerplate import RemovedPart, remove_boilerplate
from services.extract.cleaning.damage import (
    count_suspicious,
    looks_like_fragment,
    repair_whole_text,
)
from services.extract.cleaning.html import html_main_text
from services.extract.cleaning.layout import join_broken_lines, normalize_characters, tidy_line
from services.extract.cleaning.pinyin import strip_pinyin_annotations
from services.extract.cleaning.script import Script, detect_script, to_simplified

__all__ = ["CleanResult", "RemovedPart", "clean_document", "content_hash"]

NOT_CONTENT = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class CleanResult:
    text: str
    text_original_script: str
    original_script: Script
    quality: dict[str, Any]
    removed: list[RemovedPart] = field(default_factory=list)
    source_url: str | None = None
    # Page metadata: from the HTML (trafilatura), plus `published_at` (ISO) from a
    # portal publication line removed from the text; the clean stage stores it and
    # metadata extraction reads it.
    html_meta: dict[str, str] = field(default_factory=dict)
    content_hash: str = ""


def content_hash(simplified: str) -> str:
    """Hash of the words only: copies differing in layout, punctuation or script match."""
    return hashlib.sha256(NOT_CONTENT.sub("", simplified).lower().encode()).hexdigest()


def clean_document(raw_text: str, *, html: str | None = None) -> CleanResult:
    html_meta: dict[str, str] = {}
    if html is not None:
        raw_text, html_meta = html_main_text(html)
    text = normalize_characters(raw_text)
    text, repaired = repair_whole_text(text)
    text, annotations = strip_pinyin_annotations(text)
    simplified = to_simplified(text)
    original_lines = [tidy_line(x) for x in text.split("\n")]
    simple_lines = [tidy_line(x) for x in simplified.split("\n")]
    if len(original_lines) != len(simple_lines):  # never expected from t2s; stay safe
        original_lines = simple_lines
    pairs = [(s, o) for s, o in zip(simple_lines, original_lines, strict=True) if s]
    cleaned = remove_boilerplate([s for s, _ in pairs])
    kept_ids = _kept_indices([s for s, _ in pairs], cleaned.lines)
    simple_kept = [pairs[i][0] for i in kept_ids]
    original_kept = [pairs[i][1] for i in kept_ids]
    simple_joined, joins = join_broken_lines(simple_kept)
    original_joined = _join_like(original_kept, simple_kept, simple_joined)
    final = "\n".join(simple_joined)
    if cleaned.published_at:
        html_meta.setdefault("published_at", cleaned.published_at)
    suspicious = count_suspicious(final)
    quality = {
        "pinyin_annotations_removed": annotations,
        "boilerplate_removed_chars": sum(len(p.text) for p in cleaned.removed),
        "suspected_mojibake": suspicious > 0 or "\ufffd" in final,
        "mojibake_runs": suspicious,
        "mojibake_repaired": repaired,
        "replacement_chars": final.count("\ufffd"),
        "is_fragment": looks_like_fragment(simple_joined),
        "lines_joined": joins,
        "chars_in": len(raw_text),
        "chars_out": len(final),
    }
    return CleanResult(
        text=final,
        text_original_script="\n".join(original_joined),
        original_script=detect_script(text, simplified),
        quality=quality,
        removed=cleaned.removed,
        source_url=cleaned.source_url,
        html_meta=html_meta,
        content_hash=content_hash(final),
    )


def _kept_indices(all_lines: list[str], kept: list[str]) -> list[int]:
    """Positions of the kept lines (kept is an order-preserving subsequence)."""
    out, j = [], 0
    for i, line in enumerate(all_lines):
        if j < len(kept) and line == kept[j]:
            out.append(i)
            j += 1
    return out


def _join_like(original: list[str], simple: list[str], joined: list[str]) -> list[str]:
    """Apply to the original-script lines the same joins made on the simplified ones."""
    out: list[str] = []
    i = 0
    for target in joined:
        acc_s, acc_o = "", ""
        while i < len(simple) and len(acc_s) < len(target):
            acc_s += simple[i]
            acc_o += original[i]
            i += 1
        out.append(acc_o)
    return out
