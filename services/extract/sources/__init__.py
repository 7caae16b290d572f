"""Find the documents a watched source lists: RSS/Atom items or links on a listing page.

Government listing pages (政策文件, 通知公告) are lists of `<a>` to article pages with a
date beside each; the heuristics below (same site, article-like path or a pattern the
user gave, a title-like link text, a nearby date) are specific to those pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree, html

from shared.formats import FormatError
from shared.formats.parse import decode_html

ARTICLE_PATH = re.compile(
    r"\.(s?html?|pdf|docx?|jhtml)$|/t\d{8}_|/\d{6,}|content_|art_|detail", re.I
)
DATE = re.compile(r"((?:19|20)\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")
HAN = re.compile(r"[\u4e00-\u9fff]")
MIN_TITLE = 6


@dataclass(frozen=True, slots=True)
class DiscoveredLink:
    url: str
    title: str | None
    published: str | None  # ISO date


def _iso(text: str) -> str | None:
    m = DATE.search(text or "")
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def _feed(data: bytes, base_url: str) -> list[DiscoveredLink] | None:
    try:
        root = etree.fromstring(
            data, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError:
        return None
    tag = etree.QName(root).localname
    links: list[DiscoveredLink] = []
    if tag == "rss":
        for item in root.iter("item"):
            url = (item.findtext("link") or "").strip()
            if url:
                links.append(
                    DiscoveredLink(
                        urljoin(base_url, url),
                        (item.findtext("title") or "").strip() or None,
                        _iso(item.findtext("pubDate") or "") or _rfc822(item.findtext("pubDate")),
                    )
                )
        return links
    if tag == "feed":
        ns = {"a": "http://www.w3.org/2005/Atom"}
        for entry in root.findall("a:entry", ns):
            link = entry.find("a:link", ns)
            if link is not None and link.get("href"):
                links.append(
                    DiscoveredLink(
                        urljoin(base_url, link.get("href") or ""),
                        (entry.findtext("a:title", namespaces=ns) or "").strip() or None,
                        _iso(
                            entry.findtext("a:updated", namespaces=ns)
                            or entry.findtext("a:published", namespaces=ns)
                            or ""
                        ),
                    )
                )
        return links
    return None


def _rfc822(value: str | None) -> str | None:
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError):
        return None


def discover_links(
    data: bytes | str,
    *,
    base_url: str,
    content_type: str | None = None,
    same_site: bool = True,
    pattern: str | None = None,
) -> list[DiscoveredLink]:
    raw = data.encode() if isinstance(data, str) else data
    if (content_type or "").endswith("xml") or raw.lstrip()[:5] in (b"<?xml", b"<rss ", b"<feed"):
        feed = _feed(raw, base_url)
        if feed is not None:
            return feed
    try:
        # Decode first (meta charset, else detection): lxml would assume Latin-1.
        tree = html.fromstring(decode_html(raw).html or "")
    except (etree.ParserError, ValueError, FormatError):
        return []
    site = urlsplit(base_url).hostname
    wanted = re.compile(pattern) if pattern else None
    found: dict[str, DiscoveredLink] = {}
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        url = urldefrag(urljoin(base_url, href)).url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or (same_site and parts.hostname != site):
            continue
        title = " ".join((a.get("title") or a.text_content() or "").split())
        if wanted is not None:
            if not wanted.search(url):
                continue
        elif not ARTICLE_PATH.search(parts.path) or len(title) < MIN_TITLE or not HAN.search(title):
            continue
        parent = a.getparent()
        context = parent.text_content() if parent is not None else ""
        if url not in found:
            found[url] = DiscoveredLink(url, title or None, _iso(context))
    return list(found.values())
