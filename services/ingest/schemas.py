"""Request and response bodies of the ingest API (see API.md: these names are the contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DocumentIn(BaseModel):
    """One document: `text` or `html` is required."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, description="Plain text of the document")
    html: str | None = Field(default=None, description="HTML of the page holding the document")
    title: str | None = Field(default=None, max_length=1000)
    source_url: str | None = Field(default=None, max_length=4096)
    external_id: str | None = Field(default=None, max_length=512)
    metadata: dict[str, Any] = Field(default_factory=dict, description="Fields you know; they win")

    @model_validator(mode="after")
    def _one_body(self) -> DocumentIn:
        if self.text is None and self.html is None:
            raise ValueError("one of `text` or `html` is required")
        if self.text is not None and self.html is not None:
            raise ValueError("give either `text` or `html`, not both")
        return self


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    documents: list[dict[str, Any]] = Field(max_length=10_000)


class FetchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=4096)
    title: str | None = Field(default=None, max_length=1000)
    external_id: str | None = Field(default=None, max_length=512)


class Links(BaseModel):
    self: str
    original: str | None = None


class Accepted(BaseModel):
    id: str
    status: str
    links: Links
    duplicate_of: str | None = None
    version: int = 1


class BatchItem(BaseModel):
    id: str | None = None
    status: str | None = None
    error: dict[str, Any] | None = None


class BatchAccepted(BaseModel):
    items: list[BatchItem]
    accepted: int
    rejected: int


class HistoryEntry(BaseModel):
    stage: str
    status: str
    at: datetime
    ms: int
    queued_ms: int | None = None
    detail: str | None = None


class RelationOut(BaseModel):
    id: str
    similarity: float
    relation: Literal["near_duplicate", "contains", "contained_in", "duplicate"]


class VersionOut(BaseModel):
    version: int
    received_at: datetime
    title: str | None = None
    current: bool = False


class DocumentOut(BaseModel):
    id: str
    status: str
    error: str | None
    received_at: datetime
    updated_at: datetime
    source_url: str | None
    final_url: str | None = None
    external_id: str | None
    title: str | None
    text: str | None
    text_original_script: str | None = None
    original_script: str | None
    encoding: str | None = None
    input_format: str | None = None
    original_filename: str | None = None
    content_type: str | None = None
    metadata: dict[str, Any]
    removed_parts: list[dict[str, Any]] = Field(default_factory=list)
    duplicate_of: str | None
    is_canonical: bool = True
    near_duplicates: list[RelationOut]
    history: list[HistoryEntry]
    version: int = 1
    versions: list[VersionOut] = Field(default_factory=list)
    http: dict[str, Any] | None = None
    links: Links


class DocumentSummary(BaseModel):
    id: str
    status: str
    title: str | None
    received_at: datetime
    updated_at: datetime
    source_url: str | None
    external_id: str | None
    error: str | None
    links: Links


class DocumentPage(BaseModel):
    items: list[DocumentSummary]
    next_cursor: str | None
