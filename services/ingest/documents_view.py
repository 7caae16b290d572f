"""Build the API's document views from rows."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from services.ingest import repository
from services.ingest.schemas import (
    DocumentOut,
    DocumentSummary,
    HistoryEntry,
    Links,
    RelationOut,
    VersionOut,
)
from services.ingest.service import metadata_view
from shared.models import Document


def etag(doc: Document) -> str:
    stamp = f"{doc.id}:{doc.updated_at.isoformat()}:{doc.status}:{doc.version}"
    return '"' + hashlib.sha1(stamp.encode()).hexdigest()[:20] + '"'


def summary(doc: Document, links: Links) -> DocumentSummary:
    return DocumentSummary(
        id=doc.id,
        status=doc.status,
        title=doc.title or doc.user_title,
        received_at=doc.received_at,
        updated_at=doc.updated_at,
        source_url=doc.source_url,
        external_id=doc.external_id,
        error=doc.error,
        links=links,
    )


def detail(session: Session, doc: Document, links: Links) -> DocumentOut:
    versions = [
        VersionOut(version=v.version, received_at=v.received_at, title=v.title)
        for v in repository.versions(session, doc.id)
    ]
    versions.append(
        VersionOut(version=doc.version, received_at=doc.received_at, title=doc.title, current=True)
    )
    return DocumentOut(
        id=doc.id,
        status=doc.status,
        error=doc.error,
        received_at=doc.received_at,
        updated_at=doc.updated_at,
        source_url=doc.source_url,
        final_url=doc.final_url,
        external_id=doc.external_id,
        title=doc.title or doc.user_title,
        text=doc.text,
        text_original_script=doc.text_original_script,
        original_script=doc.original_script,
        encoding=doc.encoding,
        input_format=doc.input_format,
        original_filename=doc.original_filename,
        content_type=doc.content_type,
        metadata=metadata_view(doc),
        removed_parts=list(doc.removed_parts or []),
        duplicate_of=doc.duplicate_of,
        is_canonical=doc.is_canonical,
        near_duplicates=[
            RelationOut(id=r.other_id, similarity=round(r.similarity, 4), relation=r.relation)  # type: ignore[arg-type]
            for r in repository.relations(session, doc.id)
            if r.relation != "duplicate"
        ],
        history=[
            HistoryEntry(
                stage=h.stage,
                status=h.status,
                at=h.at,
                ms=h.ms,
                queued_ms=h.queued_ms,
                detail=h.detail,
            )
            for h in repository.history(session, doc.id)
        ],
        version=doc.version,
        versions=versions,
        http=doc.http_meta,
        links=links,
    )
