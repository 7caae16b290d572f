"""Metadata extraction: the 公文 elements a policy library is searched by.

`extract_metadata(text)` returns the API's `metadata` fields plus `evidence`, the span of
the cleaned text each field came from and its source (`text`, `html-meta`, `user`).
Precision first: a field the rules cannot establish stays null (or []); fields the
submitter gave win over extracted ones. Vocabularies: `DOC_TYPES`, `TOPICS`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import rjieba

from services.extract.metadata import header, regions, structure
from services.extract.metadata.dates import ISO_DATE
from services.extract.metadata.numbers import NumberMatch, find_numbers, own_number
from services.extract.metadata.vocabulary import DOC_TYPES, TOPICS, doc_type_of, topics_of

__all__ = ["DOC_TYPES", "TOPICS", "extract_metadata", "identity_fields"]

LIST_FIELDS = ("issuers", "cited_documents", "topics", "keywords", "targets", "outline")
HTML_TITLE_KEYS = ("ArticleTitle", "title", "og:title")
# `published_at` is what cleaning writes: trafilatura's date, or the date of a portal
# publication line (`发布时间:…`) removed from the text as page furniture.
HTML_DATE_KEYS = (
    "PubDate",
    "article:published_time",
    "firstpublishedtime",
    "date",
    "published_at",
)
_DATE_VALUE = r"[:：]\s*((?:19|20)\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2})"
_PUBLISHED = re.compile(rf"(?:发布时间|发布日期|发文日期){_DATE_VALUE}")
# Any `时间:` (also 会议时间, 报名时间): only when nothing better says when it was published.
_PUBLISHED_LOOSE = re.compile(rf"时间{_DATE_VALUE}")
_SITE_SUFFIX = re.compile(r"\s*[_|\-—]+\s*[^_|\-—]{2,30}$")
_KEYWORD_TAGS = frozenset({"n", "nz", "vn", "nt", "nl", "ng"})
_GENERIC = frozenset(
    {
        "工作",
        "建设",
        "发展",
        "单位",
        "部门",
        "政府",
        "有关",
        "方面",
        "体系",
        "机制",
        "水平",
        "能力",
        "质量",
        "全面",
        "重点",
        "服务",
        "管理",
    }
)


def _empty() -> dict[str, Any]:
    return {
        "title": None,
        "doc_number": None,
        "issuers": [],
        "date": None,
        "published_at": None,
        "province": None,
        "city": None,
        "county": None,
        "doc_type": None,
        "cited_documents": [],
        "topics": [],
        "keywords": [],
        "targets": [],
        "outline": [],
        "evidence": {},
    }


def extract_metadata(
    text: str,
    *,
    html_meta: dict[str, str] | None = None,
    user: dict[str, Any] | None = None,
    title_hint: str | None = None,
) -> dict[str, Any]:
    meta = _empty()
    evidence: dict[str, dict[str, Any]] = meta["evidence"]

    def found(name: str, value: Any, start: int, end: int) -> None:
        meta[name] = value
        evidence[name] = {"start": start, "end": end, "source": "text"}

    head = _header(text)
    title, own, issuers = head.title, head.own_number, head.issuers
    if title:
        found("title", title.value, title.start, title.end)
    if own:
        found("doc_number", own.number, own.start, own.end)
    meta["cited_documents"] = [
        {"title": n.cited_title, "doc_number": n.number}
        for n in head.numbers
        if n is not own and n.cited_title
    ][:50]
    if issuers and issuers.value:
        found("issuers", head.issuer_names, issuers.start, issuers.end)
    sig_date = head.signed
    if sig_date:
        found("date", sig_date.value, sig_date.start, sig_date.end)

    _published(meta, text, html_meta)
    _region(meta, evidence)
    if meta["title"]:
        meta["doc_type"] = doc_type_of(str(meta["title"]))
    meta["outline"] = structure.outline(text.split("\n"))
    meta["targets"] = structure.targets(text)
    meta["topics"] = topics_of(str(meta["title"] or ""), text)
    meta["keywords"] = keywords(text)

    _apply_html_meta(meta, html_meta or {}, title_hint)
    _apply_user(meta, user or {})
    return meta


@dataclass(frozen=True, slots=True)
class _Header:
    title: header.Found | None
    numbers: list[NumberMatch]
    own_number: NumberMatch | None
    issuers: header.Found | None
    signed: header.Found | None

    @property
    def issuer_names(self) -> list[str]:
        if not (self.issuers and self.issuers.value):
            return []
        return list(dict.fromkeys(cast(list[str], self.issuers.value)))


def _header(text: str) -> _Header:
    title = header.find_title(text)
    header_end = title.end + 200 if title else min(len(text), 400)
    numbers = find_numbers(text)
    own = own_number(text, numbers, header_end)
    sig_issuers, sig_date = header.signature(text)
    issuers = header.header_issuers(text) or sig_issuers
    if issuers is None and title:
        from_title = header.issuers_from_title(str(title.value))
        if from_title:
            issuers = header.Found(from_title, title.start, title.start + len("".join(from_title)))
    return _Header(title, numbers, own, issuers, sig_date)


def identity_fields(
    text: str, *, user: dict[str, Any] | None = None
) -> tuple[str | None, list[str]]:
    """(发文字号, issuers) as `extract_metadata` finds them, without the rest (keywords,
    outline, targets: most of its cost): what dedupe needs before the extract stage."""
    head = _header(text)
    meta: dict[str, Any] = {
        "doc_number": head.own_number.number if head.own_number else None,
        "issuers": head.issuer_names,
        "evidence": {},
    }
    # The submitter's values win, exactly as in `extract_metadata`.
    _apply_user(meta, {k: v for k, v in (user or {}).items() if k in ("doc_number", "issuers")})
    return meta["doc_number"], meta["issuers"]


def _published(meta: dict[str, Any], text: str, html_meta: dict[str, str] | None) -> None:
    found = _PUBLISHED.search(text)
    values = [found.group(1)] if found else []
    values += [(html_meta or {}).get(key) or "" for key in HTML_DATE_KEYS]
    if loose := _PUBLISHED_LOOSE.search(text):
        values.append(loose.group(1))
    for value in values:
        iso = ISO_DATE.search(value.replace("年", "-").replace("月", "-"))
        if iso:
            meta["published_at"] = "{}-{:02d}-{:02d}".format(*(int(g) for g in iso.groups()))
            return


def _region(meta: dict[str, Any], evidence: dict[str, dict[str, Any]]) -> None:
    """Issuer first; else a region named at the start of the title. Never from prose."""
    region = regions.Region()
    for issuer in meta["issuers"]:
        region = regions.resolve(issuer)
        if region.known:
            break
    if not region.known and meta["title"]:
        region = regions.starts_with_region(str(meta["title"]))
    if region.known:
        source = evidence.get("issuers") or evidence.get("title")
        for name in ("province", "city", "county"):
            value = getattr(region, name)
            meta[name] = value
            if value and source:
                evidence[name] = dict(source)


def _apply_html_meta(meta: dict[str, Any], html_meta: dict[str, str], hint: str | None) -> None:
    if meta["title"] is None:
        for key in HTML_TITLE_KEYS:
            if value := html_meta.get(key):
                meta["title"] = _SITE_SUFFIX.sub("", value.strip()) or value.strip()
                meta["evidence"]["title"] = {"start": None, "end": None, "source": "html-meta"}
                break
    if meta["title"] is None and hint:
        meta["title"] = hint
    if meta["doc_type"] is None and meta["title"]:
        meta["doc_type"] = doc_type_of(str(meta["title"]))
    if not meta["issuers"] and (source := html_meta.get("ContentSource")):
        orgs = header.split_orgs(source)
        if orgs:
            meta["issuers"] = orgs
            meta["evidence"]["issuers"] = {"start": None, "end": None, "source": "html-meta"}


def _apply_user(meta: dict[str, Any], user: dict[str, Any]) -> None:
    for name, value in user.items():
        if name not in meta or name == "evidence" or value in (None, "", []):
            continue
        if name in LIST_FIELDS and isinstance(value, str):
            value = [value]
        meta[name] = value
        meta["evidence"][name] = {"start": None, "end": None, "source": "user"}
    if "title" in user and user["title"] and "doc_type" not in user:
        meta["doc_type"] = doc_type_of(str(user["title"])) or meta["doc_type"]


@cache
def _tagger() -> rjieba.Jieba:
    return rjieba.Jieba()


def keywords(text: str, *, top: int = 8) -> list[str]:
    """The most frequent specific nouns (rjieba part-of-speech tags), generic words dropped."""
    counts: Counter[str] = Counter(
        word
        # The opening 8,000 characters name what a policy is about; tagging all of a
        # long plan doubled extraction time for the same keywords.
        for word, tag in _tagger().tag(text[:8_000], True)
        if tag in _KEYWORD_TAGS and len(word) > 1 and word not in _GENERIC
    )
    # Longer words are more specific: 职业院校 says more than 职业.
    ranked = sorted(counts.items(), key=lambda kv: kv[1] * min(len(kv[0]), 4), reverse=True)
    return [word for word, n in ranked[:top] if n > 1]
