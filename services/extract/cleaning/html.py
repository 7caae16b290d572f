"""Main text of an HTML page with trafilatura: headings, paragraphs and tables kept."""

from __future__ import annotations

import re
from typing import Any

import trafilatura
from lxml import html as lxml_html


def html_main_text(html: str) -> tuple[str, dict[str, str]]:
    """Returns (text, metadata); tables come out as `a | b | c` rows, one per line."""
    text = trafilatura.extract(
        html,
        output_format="markdown",
        include_tables=True,
        include_comments=False,
        include_links=False,
        include_images=False,
        favor_recall=True,
        deduplicate=False,
    )
    if not text or len(text.strip()) < 20:
        text = _all_text(html)
    meta: dict[str, str] = {}
    doc: Any = trafilatura.extract_metadata(html)
    if doc is not None:
        for key in ("title", "date", "author", "sitename", "url"):
            value = getattr(doc, key, None)
            if value:
                meta["published_at" if key == "date" else key] = str(value)
    return _markdown_to_lines(text), meta


def _markdown_to_lines(text: str) -> str:
    lines = []
    for line in text.splitlines():
        line = re.sub(r"^#{1,6}\s*", "", line)  # headings stay as their own lines
        line = re.sub(r"^\s*[-*]\s+", "", line)
        if re.match(r"^\s*\|?\s*:?-{3,}", line):
            continue  # markdown table separator
        if line.strip().startswith("|"):
            line = " | ".join(c.strip() for c in line.strip().strip("|").split("|"))
        line = re.sub(r"\*\*(.+?)\*\*", r"\1", line)
        lines.append(line)
    return "\n".join(lines)


def _all_text(html: str) -> str:
    try:
        tree = lxml_html.fromstring(html)
    except (ValueError, lxml_html.etree.ParserError):
        return ""
    for bad in tree.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    return "\n".join(t.strip() for t in tree.itertext() if t.strip())
