"""Request and response bodies of the ingest API (see API.md: these names are the contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def unsafe_character(value: str) -> str | None:
    """Why a short field (title, URL, id, metadata) cannot be stored, or None.

    Control characters other than tab and line breaks never belong in these fields; a NUL
    cannot be stored by PostgreSQL at all and an unpaired surrogate cannot be encoded, so
    letting either through turned a client's mistake into a 500.
    """
    for ch in value:
        code = ord(ch)
        if (code < 0x20 and ch not in "\t\n\r") or code == 0x7F:
            return f"contains the control character U+{code:04X}"
        if 0xD800 <= code <= 0xDFFF:
            return f"contains an unpaired surrogate U+{code:04X}"
    return None


def check_short_field(value: str | None) -> str | None:
    if value is not None and (reason := unsafe_character(value)):
        raise ValueError(reason)
    return value


def check_json_value(value: Any) -> Any:
    """Metadata is stored as JSON: no NUL or surrogate in any key or string inside it."""
    if isinstance(value, str):
        if "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
            raise ValueError("contains a NUL character or an unpaired surrogate")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_json_value(key)
            check_json_value(item)
    elif isinstance(value, list):
        for item in value:
            check_json_value(item)
    return value


class DocumentIn(BaseModel):
    """One document: `text` or `html` is required."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, description="Plain text of the document")
    html: str | None = Field(default=None, description="HTML of the page holding the document")
    title: str | None = Field(default=None, max_length=1000)
    source_url: str | None = Field(default=None, max_length=4096)
    external_id: str | None = Field(default=None, max_length=512)
    metadata: dict[str, Any] = Field(default_factory=dict, description="Fields you know; they win")

    _short_fields = field_validator("title", "source_url", "external_id")(check_short_field)
    _metadata = field_validator("metadata")(check_json_value)

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

    _short_fields = field_validator("url", "title", "external_id")(check_short_field)


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
