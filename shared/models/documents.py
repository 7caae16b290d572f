"""Documents, their versions, stage history and relations between documents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from shared.models.base import Base, JSONType, UTCDateTime, new_id, utcnow


class Status(StrEnum):
    """Document status, in pipeline order (see API.md)."""

    RECEIVED = "received"
    FETCHING = "fetching"
    CLEANING = "cleaning"
    DEDUPLICATING = "deduplicating"
    EXTRACTING = "extracting"
    INDEXING = "indexing"
    INDEXED = "indexed"
    DUPLICATE = "duplicate"
    FAILED = "failed"


FINAL_STATUSES = frozenset({Status.INDEXED, Status.DUPLICATE, Status.FAILED})


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    status: Mapped[str] = mapped_column(String(16), default=Status.RECEIVED, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    failed_stage: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    request_id: Mapped[str | None] = mapped_column(String(64))

    # Where it came from
    source_url: Mapped[str | None] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(512))
    source_id: Mapped[str | None] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    http_meta: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    # What the submitter gave
    user_title: Mapped[str | None] = mapped_column(Text)
    user_metadata: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    # The original, exactly as received
    original: Mapped[bytes | None] = mapped_column(LargeBinary)
    original_filename: Mapped[str | None] = mapped_column(String(512))
    content_type: Mapped[str | None] = mapped_column(String(128))
    input_format: Mapped[str | None] = mapped_column(String(16))  # text|html|txt|docx|pdf
    encoding: Mapped[str | None] = mapped_column(String(32))

    # Results of the pipeline
    raw_text: Mapped[str | None] = mapped_column(Text)  # decoded, before cleaning
    text: Mapped[str | None] = mapped_column(Text)  # cleaned, simplified
    text_original_script: Mapped[str | None] = mapped_column(Text)  # cleaned, as written
    original_script: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    quality: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    removed_parts: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)

    # Dedupe outcome
    duplicate_of: Mapped[str | None] = mapped_column(String(32), index=True)
    cluster_id: Mapped[str | None] = mapped_column(String(32), index=True)
    is_canonical: Mapped[bool] = mapped_column(Boolean, default=True)

    # Search
    dictionary_version: Mapped[str | None] = mapped_column(String(64))
    indexed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    history: Mapped[list[StageRun]] = relationship(
        back_populates="document",
        order_by="StageRun.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __table_args__ = (
        Index("ix_documents_received_at_id", "received_at", "id"),
        Index("ix_documents_external_id", "source_id", "external_id"),
    )


class DocumentVersion(Base):
    """An earlier version of a document re-posted with the same `external_id`."""

    __tablename__ = "document_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    original: Mapped[bytes | None] = mapped_column(LargeBinary)
    original_filename: Mapped[str | None] = mapped_column(String(512))
    content_type: Mapped[str | None] = mapped_column(String(128))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("document_id", "version"),)


class StageRun(Base):
    """One run of one stage on one document: the `history` in the API."""

    __tablename__ = "stage_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # ok | failed | retry | skipped
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ms: Mapped[int] = mapped_column(Integer, default=0)
    queued_ms: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)

    document: Mapped[Document] = relationship(back_populates="history")


def add_history(session: Session, rows: list[dict[str, Any]]) -> None:
    """`StageRun` rows (column values) in one executemany, in the session's transaction:
    as ORM objects, each was an INSERT … RETURNING in a flush, inside the write turn
    (3 % of the extract workers' CPU at three rows a document)."""
    if rows:
        session.connection().execute(insert(cast(Table, StageRun.__table__)), rows)


class Relation(Base):
    """A directed relation; every relation is stored in both directions."""

    __tablename__ = "relations"

    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    other_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relation: Mapped[str] = mapped_column(
        String(24)
    )  # near_duplicate|contains|contained_in|duplicate
    similarity: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
