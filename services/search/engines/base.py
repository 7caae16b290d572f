"""The search engine contract, implemented by the embedded (tantivy) and Elasticsearch engines.

Both engines take the same `IndexDocument`s and answer the same `SearchQuery` with the same
`SearchResult`; `tests/contract/` runs one suite against each available engine. Query text
is analysed by `services.search.analysis` (IK-style, shared dictionary and synonyms) so that
the engines agree on what a query means.

Every method is async: the Elasticsearch client is, and the embedded engine runs its work
in a thread so the event loop stays free.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

SortOrder = Literal["relevance", "date_desc", "date_asc"]
FACET_FIELDS: tuple[str, ...] = ("province", "city", "doc_type", "year", "issuer", "topic")
# Multi-select facets: each facet counts under every filter except its own (the text query
# and the other filters still apply; hits and total use them all), so a front-end can offer
# the other values of a filtered field, which the API ORs. Each facet's own filter is the
# `SearchQuery` field of the same name; the year facet's own filter is the date range
# (`date_from`/`date_to`): it counts years ignoring the range, under the other filters.
FACET_OWN_FILTER: dict[str, str] = {
    "province": "province",
    "city": "city",
    "doc_type": "doc_type",
    "year": "date",
    "issuer": "issuer",
    "topic": "topic",
}


@dataclass(slots=True)
class IndexDocument:
    """What the indexer hands an engine for one document (built from the database row)."""

    id: str
    title: str
    text: str
    doc_number: str | None = None  # 发文字号, normalised to the 〔〕 form
    issuers: list[str] = field(default_factory=list)
    date: date | None = None  # 成文日期
    province: str | None = None
    city: str | None = None
    county: str | None = None
    doc_type: str | None = None
    topics: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    is_canonical: bool = True
    cluster_id: str | None = None
    duplicates_count: int = 0
    dictionary_version: str = ""


@dataclass(slots=True)
class SearchQuery:
    text: str = ""  # raw user query: terms, "quoted phrases", -exclusions
    province: list[str] = field(default_factory=list)
    city: list[str] = field(default_factory=list)
    issuer: list[str] = field(default_factory=list)
    doc_type: list[str] = field(default_factory=list)
    topic: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    sort: SortOrder = "relevance"
    page: int = 1
    size: int = 10
    include_duplicates: bool = False


@dataclass(slots=True)
class SearchHit:
    id: str
    score: float
    title: str
    doc_number: str | None
    issuers: list[str]
    date: date | None
    province: str | None
    city: str | None
    doc_type: str | None
    highlights: dict[str, list[str]] = field(default_factory=dict)
    duplicates_count: int = 0


@dataclass(slots=True)
class FacetValue:
    value: str
    count: int


@dataclass(slots=True)
class SearchResult:
    total: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]]
    normalized_query: str
    query_tokens: list[str]


@dataclass(slots=True)
class Suggestion:
    text: str
    kind: Literal["title", "term"]


@dataclass(slots=True)
class EngineHealth:
    ok: bool
    engine: str
    detail: str = ""
    degraded: list[str] = field(default_factory=list)  # e.g. "ik plugin missing"


class EngineUnavailable(Exception):
    """The engine cannot be reached now; indexing should be retried later, not failed."""


class SearchEngine(Protocol):
    name: str

    async def health(self) -> EngineHealth:
        """Whether the engine answers, and any degradation to report in /readyz."""
        ...

    async def index(self, docs: Sequence[IndexDocument]) -> None:
        """Insert or replace these documents (by id); searchable when this returns."""
        ...

    async def delete(self, ids: Sequence[str]) -> None:
        """Remove these documents; unknown ids are ignored."""
        ...

    async def search(self, query: SearchQuery) -> SearchResult: ...

    async def suggest(self, prefix: str, *, size: int = 10) -> list[Suggestion]: ...

    async def similar(self, doc_id: str, *, size: int = 10) -> list[SearchHit]:
        """More-like-this on the text of an indexed document; [] for an unknown id."""
        ...

    async def count(self) -> int: ...

    async def rebuild(self, batches: Iterable[Sequence[IndexDocument]]) -> None:
        """Build a fresh index from these batches and switch to it atomically (no downtime)."""
        ...

    async def close(self) -> None: ...
