"""Highlights for the embedded engine: `<em>` around matched terms, in short snippets.

Matching runs on the normalised text (simplified, half-width), which has the same length
as the stored text, so the marks land on the original characters: a traditional-script
document highlights a simplified query. Everything else is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from functools import lru_cache

SNIPPET_CHARS = 100


@lru_cache(maxsize=256)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    # Cached: a page's hits share the query's terms (building it per hit was ~3 % of the
    # search process's GIL time).
    wanted = [t for t in terms if t]
    if not wanted:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(wanted, key=len, reverse=True)))


def _mark(original: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    out: list[str] = []
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(original[pos:s]))
        out.append(f"<em>{html.escape(original[s:e])}</em>")
        pos = e
    out.append(html.escape(original[pos:end]))
    return "".join(out)


def highlight(
    original: str,
    normalized: str,
    terms: Sequence[str],
    *,
    snippets: int = 2,
    whole: bool = False,
) -> list[str]:
    """Up to `snippets` fragments of ~100 characters with the densest matches; [] if none.

    `whole=True` marks the entire text (titles).
    """
    pattern = _pattern(tuple(terms))
    if pattern is None or len(normalized) != len(original):
        return []
    spans = [(m.start(), m.end()) for m in pattern.finditer(normalized)]
    if not spans:
        return []
    if whole:
        return [_mark(original, spans, 0, len(original))]
    chosen: list[tuple[int, int]] = []
    # Greedy: the window starting a little before each match that covers most matches.
    # Matches do not overlap, so starts and ends are both sorted: the matches inside a
    # window are counted by bisection (a common word in a long plan matches hundreds of
    # times, and counting pairwise was most of a search's Python time).
    starts, ends = [a for a, _ in spans], [b for _, b in spans]
    candidates = []
    for s in starts:
        start = max(0, s - 20)
        end = min(len(original), start + SNIPPET_CHARS)
        covered = max(0, bisect_right(ends, end) - bisect_left(starts, start))
        candidates.append((covered, -start, start, end))
    candidates.sort(reverse=True)
    for _, _, start, end in candidates:
        if all(end <= a or start >= b for a, b in chosen):
            chosen.append((start, end))
        if len(chosen) == snippets:
            break
    chosen.sort()
    fragments = []
    for start, end in chosen:
        text = _mark(original, spans, start, end).replace("\n", " ")
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(original) else ""
        fragments.append(f"{prefix}{text.strip()}{suffix}")
    return fragments
