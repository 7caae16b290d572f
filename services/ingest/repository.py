"""Queries of the ingest service. Repositories flush; the request dependency commits."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from shared.models import (
    Document,
    DocumentVersion,
    IdempotencyRecord,
    Relation,
    StageRun,
)


def get_document(session: Session, document_id: str) -> Document | None:
    return session.get(Document, document_id)


def find_by_external_id(
    session: Session, external_id: str, source_id: str | None
) -> Document | None:
    stmt = select(Document).where(Document.external_id == external_id)
    stmt = stmt.where(
        Document.source_id.is_(None) if source_id is None else Document.source_id == source_id
    )
    return session.scalars(stmt.limit(1)).first()


def history(session: Session, document_id: str) -> Sequence[StageRun]:
    stmt = select(StageRun).where(StageRun.document_id == document_id).order_by(StageRun.id)
    return session.scalars(stmt).all()


def relations(session: Session, document_id: str) -> Sequence[Relation]:
    stmt = (
        select(Relation)
        .where(Relation.document_id == document_id)
        .order_by(Relation.similarity.desc())
    )
    return session.scalars(stmt).all()


def versions(session: Session, document_id: str) -> Sequence[DocumentVersion]:
    stmt = (
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document_id)
        .order_by(DocumentVersion.version)
    )
    return session.scalars(stmt).all()


def list_documents(
    session: Session, *, status: str | None, limit: int, cursor: str | None
) -> tuple[Sequence[Document], str | None]:
    """Newest first, keyset-paginated on (received_at, id) so pages are stable under inserts."""
    stmt = select(Document).order_by(Document.received_at.desc(), Document.id.desc())
    if status:
        stmt = stmt.where(Document.status == status)
    if cursor:
        at, last_id = decode_cursor(cursor)
        stmt = stmt.where(
            or_(
                Document.received_at < at,
                and_(Document.received_at == at, Document.id < last_id),
            )
        )
    rows = session.scalars(stmt.limit(limit + 1)).all()
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def encode_cursor(doc: Document) -> str:
    raw = f"{doc.received_at.isoformat()}|{doc.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    padded = cursor + "=" * (-len(cursor) % 4)
    at, last_id = base64.urlsafe_b64decode(padded.encode()).decode().split("|", 1)
    if "\x00" in last_id:  # never in an id we gave out; PostgreSQL refuses it in a query
        raise ValueError("not a cursor")
    return datetime.fromisoformat(at), last_id


def get_idempotency(session: Session, key: str, scope: str) -> IdempotencyRecord | None:
    return session.get(IdempotencyRecord, (key, scope))


def delete_history(session: Session, document_id: str) -> None:
    session.execute(delete(StageRun).where(StageRun.document_id == document_id))
