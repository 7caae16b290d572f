"""Routes of the search service (API.md "Search service")."""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from services.search.engines.base import SearchEngine, SearchHit, SearchQuery
from services.search.schemas import (
    AnalyzeResponse,
    FacetBucket,
    Hit,
    QueryInfo,
    SearchResponse,
    SimilarResponse,
    SuggestionOut,
    SuggestResponse,
    TokenOut,
)
from shared.problems import NotFound

router = APIRouter(prefix="/v1", tags=["search"])
Filter = Annotated[list[str], Query(max_length=50)]
BAD_PARAMS: dict[int | str, dict[str, str]] = {422: {"description": "Bad parameters"}}


def _engine(request: Request) -> SearchEngine:
    engine: SearchEngine = request.app.state.engine
    return engine


def _hit(h: SearchHit) -> Hit:
    # Attribute by attribute: `asdict` deep-copies every highlight list first.
    return Hit.model_validate(h, from_attributes=True)


@router.get("/search", response_model=SearchResponse, responses=BAD_PARAMS)
async def search(
    request: Request,
    q: Annotated[str, Query(max_length=500)] = "",
    province: Filter = [],  # noqa: B006 - FastAPI copies defaults per request
    city: Filter = [],  # noqa: B006
    issuer: Filter = [],  # noqa: B006
    doc_type: Filter = [],  # noqa: B006
    topic: Filter = [],  # noqa: B006
    date_from: date | None = None,
    date_to: date | None = None,
    sort: Literal["relevance", "date_desc", "date_asc"] = "relevance",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 10,
    include_duplicates: bool = False,
) -> SearchResponse:
    """Full-text search with filters, facets, sorting, pagination and highlights."""
    start = time.perf_counter()
    result = await _engine(request).search(
        SearchQuery(
            text=q,
            province=province,
            city=city,
            issuer=issuer,
            doc_type=doc_type,
            topic=topic,
            date_from=date_from,
            date_to=date_to,
            sort=sort,
            page=page,
            size=size,
            include_duplicates=include_duplicates,
        )
    )
    return SearchResponse(
        total=result.total,
        took_ms=int((time.perf_counter() - start) * 1000),
        page=page,
        size=size,
        hits=[_hit(h) for h in result.hits],
        facets={
            name: [FacetBucket(value=f.value, count=f.count) for f in values]
            for name, values in result.facets.items()
        },
        query=QueryInfo(normalized=result.normalized_query, tokens=result.query_tokens),
    )


@router.get("/suggest", response_model=SuggestResponse, responses=BAD_PARAMS)
async def suggest(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    size: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SuggestResponse:
    """Type-ahead: titles and dictionary terms for a prefix (Chinese characters work)."""
    found = await _engine(request).suggest(q, size=size)
    return SuggestResponse(suggestions=[SuggestionOut(text=s.text, kind=s.kind) for s in found])


@router.get("/documents/{document_id}/similar", response_model=SimilarResponse)
async def similar(
    request: Request, document_id: str, size: Annotated[int, Query(ge=1, le=50)] = 10
) -> SimilarResponse:
    """Documents whose text is most like this one's."""
    engine = _engine(request)
    hits = await engine.similar(document_id, size=size)
    if not hits and not await _exists(engine, document_id):
        raise NotFound(f"No indexed document with id `{document_id}`.")
    return SimilarResponse(hits=[_hit(h) for h in hits])


async def _exists(engine: SearchEngine, document_id: str) -> bool:
    checker = getattr(engine, "contains", None)
    return bool(await checker(document_id)) if checker else True


@router.get("/analyze", response_model=AnalyzeResponse, responses=BAD_PARAMS)
async def analyze(
    text: Annotated[str, Query(min_length=1, max_length=5000)],
    mode: Literal["max_word", "smart"] = "max_word",
) -> AnalyzeResponse:
    """Show how text is tokenised for indexing (`max_word`) or for queries (`smart`)."""
    from services.search.analysis import get_analyzer

    analyzer = get_analyzer()
    normalized = analyzer.normalize(text)
    tokens = analyzer.max_word(normalized) if mode == "max_word" else analyzer.smart(normalized)
    return AnalyzeResponse(
        tokens=[TokenOut(token=t.token, start=t.start, end=t.end) for t in tokens],
        mode=mode,
        normalized=normalized,
    )
