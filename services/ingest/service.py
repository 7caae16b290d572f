"""What the ingest API does: accept documents, version them, retry and delete them.

Every change and the event announcing it are written in one transaction (outbox); the
caller publishes after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from services.ingest import repository
from services.ingest.submissions import Submission
from shared import outbox, tasks
from shared.events import DocumentBatch, DocumentsRemoved, FetchRequested
from shared.models import Document, DocumentVersion, StageRun, Status, utcnow
from shared.problems import Conflict, NotFound

# Which task restarts a document that failed in a stage (the stage's own task).
RETRY_TASK = {
    "fetch": tasks.FETCH,
    "clean": tasks.CLEAN,
    "dedupe": tasks.DEDUPE,
    "extract": tasks.EXTRACT,
    "index": tasks.INDEX,
}
RETRY_STATUS = {
    "fetch": Status.FETCHING,
    "clean": Status.RECEIVED,
    "dedupe": Status.DEDUPLICATING,
    "extract": Status.EXTRACTING,
    "index": Status.INDEXING,
}


def accept(
    session: Session, sub: Submission, *, request_id: str | None, announce: bool = True
) -> tuple[Document, bool]:
    """Store a submission; returns (document, changed). Re-posting the same external_id
    with the same bytes changes nothing; with other bytes it makes a new version."""
    if sub.external_id:
        existing = repository.find_by_external_id(session, sub.external_id, None)
        if existing is not None:
            if _same_original(existing, sub):
                return existing, False
            _new_version(session, existing, sub)
            if announce:
                announce_received(session, [existing.id], request_id=request_id)
            return existing, True
    doc = new_document(sub, request_id=request_id)
    session.add(doc)
    session.flush()
    if announce:
        announce_received(session, [doc.id], request_id=request_id)
    return doc, True


def new_document(sub: Submission, *, request_id: str | None) -> Document:
    return Document(
        status=Status.RECEIVED,
        request_id=request_id,
        source_url=sub.source_url,
        external_id=sub.external_id,
        user_title=sub.title,
        user_metadata=sub.metadata,
        original=sub.original,
        original_filename=sub.filename,
        content_type=sub.content_type,
        input_format=sub.input_format,
        encoding=sub.encoding,
    )


def announce_received(session: Session, ids: Sequence[str], *, request_id: str | None) -> int:
    return outbox.enqueue(
        session, tasks.CLEAN, DocumentBatch(document_ids=list(ids), request_id=request_id)
    ).id


def request_fetch(
    session: Session,
    *,
    url: str,
    title: str | None,
    external_id: str | None,
    request_id: str | None,
) -> Document:
    doc = Document(
        status=Status.FETCHING,
        request_id=request_id,
        source_url=url,
        external_id=external_id,
        user_title=title,
        user_metadata={},
    )
    session.add(doc)
    session.flush()
    outbox.enqueue(
        session, tasks.FETCH, FetchRequested(document_ids=[doc.id], request_id=request_id)
    )
    return doc


def retry(session: Session, document_id: str, *, request_id: str | None) -> Document:
    doc = _get(session, document_id)
    if doc.status != Status.FAILED:
        raise Conflict(f"Only failed documents can be retried; this one is `{doc.status}`.")
    stage = doc.failed_stage or "clean"
    doc.status = RETRY_STATUS.get(stage, Status.RECEIVED)
    doc.error = None
    doc.failed_stage = None
    session.add(StageRun(document_id=doc.id, stage=stage, status="retry", detail="retry requested"))
    event_cls = FetchRequested if stage == "fetch" else DocumentBatch
    outbox.enqueue(
        session,
        RETRY_TASK.get(stage, tasks.CLEAN),
        event_cls(document_ids=[doc.id], request_id=request_id),
    )
    session.flush()
    return doc


def delete(session: Session, document_id: str, *, request_id: str | None) -> None:
    """Delete the document; the search indexer removes it and re-elects cluster canonicals."""
    doc = _get(session, document_id)
    event = DocumentsRemoved(
        document_ids=[doc.id],
        cluster_ids=[doc.cluster_id] if doc.cluster_id else [],
        request_id=request_id,
    )
    outbox.enqueue(session, tasks.UNINDEX, event)
    if doc.cluster_id:
        outbox.enqueue(session, tasks.RECLUSTER, event)
    session.delete(doc)
    session.flush()


def _get(session: Session, document_id: str) -> Document:
    doc = repository.get_document(session, document_id)
    if doc is None:
        raise NotFound(f"No document with id `{document_id}`.")
    return doc


def _same_original(doc: Document, sub: Submission) -> bool:
    return doc.original == sub.original and (doc.user_title or None) == (sub.title or None)


def _new_version(session: Session, doc: Document, sub: Submission) -> None:
    session.add(
        DocumentVersion(
            document_id=doc.id,
            version=doc.version,
            received_at=doc.received_at,
            original=doc.original,
            original_filename=doc.original_filename,
            content_type=doc.content_type,
            content_hash=doc.content_hash,
            title=doc.title,
        )
    )
    doc.version += 1
    doc.received_at = utcnow()
    doc.original = sub.original
    doc.original_filename = sub.filename
    doc.content_type = sub.content_type
    doc.input_format = sub.input_format
    doc.encoding = sub.encoding
    doc.user_title = sub.title
    doc.user_metadata = sub.metadata
    doc.source_url = sub.source_url or doc.source_url
    _reset_results(doc)
    session.flush()


def _reset_results(doc: Document) -> None:
    doc.status = Status.RECEIVED
    doc.error = None
    doc.failed_stage = None
    for attr in ("raw_text", "text", "text_original_script", "original_script", "title"):
        setattr(doc, attr, None)
    doc.meta = {}
    doc.quality = {}
    doc.removed_parts = []


def metadata_view(doc: Document) -> dict[str, Any]:
    """The API's `metadata`: extracted fields with `quality` folded in; unknown is null."""
    meta: dict[str, Any] = {
        "title": None,
        "doc_number": None,
        "issuers": [],
        "date": None,
        "province": None,
        "city": None,
        "county": None,
        "doc_type": None,
        "cited_documents": [],
        "topics": [],
        "keywords": [],
        "targets": [],
        "outline": [],
    }
    # Keys starting with `_` are the pipeline's working notes (e.g. `_html_meta`).
    meta.update({k: v for k, v in (doc.meta or {}).items() if not k.startswith("_")})
    meta["quality"] = doc.quality or {}
    return meta
