"""Response bodies of the search API (API.md "Search service": these names are the contract)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field


class Hit(BaseModel):
    id: str
    score: float
    title: str
    doc_number: str | None
    issuers: list[str]
    date: date | None
    province: str | None
    city: str | None
    doc_type: str | None
    highlights: dict[str, list[str]]
    duplicates_count: int = 0


class FacetBucket(BaseModel):
    value: str
    count: int


class QueryInfo(BaseModel):
    normalized: str
    tokens: list[str]


class SearchResponse(BaseModel):
    total: int
    took_ms: int
    page: int
    size: int
    hits: list[Hit]
    facets: dict[str, list[FacetBucket]]
    query: QueryInfo


class SuggestionOut(BaseModel):
    text: str
    kind: Literal["title", "term"]


class SuggestResponse(BaseModel):
    suggestions: list[SuggestionOut]


class SimilarResponse(BaseModel):
    hits: list[Hit]


class TokenOut(BaseModel):
    token: str
    start: int
    end: int


class AnalyzeResponse(BaseModel):
    tokens: list[TokenOut]
    mode: Literal["max_word", "smart"] = Field(description="Analysis mode used")
    normalized: str
