"""Watched sources: register a listing page or feed; beat polls it (API: /v1/sources)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from services.ingest.deps import ReadSession
from services.ingest.fetch_policy import check_fetch_url
from services.ingest.schemas import check_short_field
from shared.db import session_scope
from shared.models import Source
from shared.problems import NotFound
from shared.web_auth import require_writer

router = APIRouter(prefix="/v1/sources", tags=["sources"])


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=4096, description="A listing page or an RSS/Atom feed")
    kind: Literal["auto", "listing", "feed"] = "auto"
    interval_seconds: Annotated[int, Field(ge=300, le=30 * 86400)] = 6 * 3600
    link_pattern: str | None = Field(default=None, max_length=500, description="Regex on links")
    same_site: bool = True

    _short_fields = field_validator("url", "link_pattern")(check_short_field)

    @field_validator("link_pattern")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class SourceOut(BaseModel):
    id: str
    url: str
    kind: str
    interval_seconds: int
    link_pattern: str | None
    same_site: bool
    enabled: bool
    created_at: datetime
    next_run_at: datetime
    last_run_at: datetime | None
    last_status: str | None
    links_found: int
    documents_created: int
    errors: list[Any]


class SourceList(BaseModel):
    items: list[SourceOut]


def _out(row: Source) -> SourceOut:
    return SourceOut.model_validate(row, from_attributes=True)


@router.post("", status_code=201, response_model=SourceOut, dependencies=[Depends(require_writer)])
async def create_source(request: Request, body: SourceIn) -> SourceOut:
    """Watch a listing page or feed; new or changed articles are fetched on schedule."""
    settings = request.app.state.settings
    await run_in_threadpool(check_fetch_url, body.url, settings)

    def _create() -> SourceOut:
        with session_scope(settings.resolved_database_url, write=True) as session:
            row = Source(**body.model_dump())
            session.add(row)
            session.flush()
            return _out(row)

    return await run_in_threadpool(_create)


@router.get("", response_model=SourceList)
def list_sources(session: ReadSession) -> SourceList:
    """All watched sources with their last run."""
    rows = session.scalars(select(Source).order_by(Source.created_at)).all()
    return SourceList(items=[_out(r) for r in rows])


@router.get("/{source_id}", response_model=SourceOut, responses={404: {}})
def get_source(source_id: str, session: ReadSession) -> SourceOut:
    """One watched source: last run, links found, documents created, errors."""
    row = session.get(Source, source_id)
    if row is None:
        raise NotFound(f"No source with id `{source_id}`.")
    return _out(row)


@router.delete("/{source_id}", status_code=204, dependencies=[Depends(require_writer)])
async def delete_source(source_id: str, request: Request) -> None:
    """Stop watching a source (documents already ingested stay)."""
    url = request.app.state.settings.resolved_database_url

    def _delete() -> None:
        with session_scope(url, write=True) as session:
            row = session.get(Source, source_id)
            if row is None:
                raise NotFound(f"No source with id `{source_id}`.")
            session.delete(row)

    await run_in_threadpool(_delete)
