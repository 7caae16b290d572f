"""Move documents from the database into the engine, and record that they got there.

Indexing is an upsert by id, so running it twice is harmless. An unreachable engine
raises `EngineUnavailable`: the task retries later and the documents stay `indexing`
with a history note saying why, instead of failing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import load_only

from services.search.documents import (
    FOR_INDEXING,
    INDEXABLE,
    duplicate_counts,
    to_index_document,
)
from services.search.engines.base import EngineUnavailable, SearchEngine
from shared.db import requests_waiting, session_scope
from shared.models import Document, StageRun, Status, add_history, utcnow
from shared.runtime import run_async

# Documents waiting to be indexed that a task takes along with its own: one engine commit
# (the costly part: a segment written and merged) for whatever is ready, not one per
# extract batch; their own tasks then find them done. Bounded to keep a commit prompt.
READY_LIMIT = 256
MARK_SLICE = 32
# Marking a document indexed reads only what it decides on: loading whole rows (the
# original, three texts, JSON) under the write turn walked their overflow pages in SQLite
# and decoded their JSON, a fifth of the indexer's time, while every writer waited.
_MARKING = load_only(Document.id, Document.status, Document.error)


def index_documents(
    engine: SearchEngine,
    ids: Sequence[str],
    *,
    database_url: str,
    dictionary_version: str,
    sent_at: datetime | None = None,
) -> dict[str, str]:
    """`sent_at`: when the event was sent; a document indexed from a read made after it
    already reflects what the event announced, and is skipped."""
    read_at = utcnow()
    with session_scope(database_url) as session:
        docs = [
            d
            for d in session.scalars(
                select(Document).options(FOR_INDEXING).where(Document.id.in_(list(ids)))
            )
            if not (
                sent_at is not None
                and d.status == Status.INDEXED
                and d.indexed_at is not None
                and d.indexed_at >= sent_at
            )
        ]
        docs += session.scalars(
            select(Document)
            .options(FOR_INDEXING)
            .where(Document.status == Status.INDEXING, Document.id.not_in(list(ids)))
            .order_by(Document.received_at)
            .limit(READY_LIMIT)
        )
        counts = duplicate_counts(session, docs)
        to_index = [
            to_index_document(
                d, duplicates=counts.get(d.id, 0), dictionary_version=dictionary_version
            )
            for d in docs
            if d.status in INDEXABLE
        ]
        # Exact duplicates are not indexed separately (and may have been before).
        to_remove = [d.id for d in docs if d.status == Status.DUPLICATE]
    start = time.perf_counter()
    try:
        if to_index:
            run_async(engine.index(to_index))
        if to_remove:
            run_async(engine.delete(to_remove))
    except EngineUnavailable as exc:
        _note_waiting(database_url, [d.id for d in to_index], str(exc))
        raise
    ms = int((time.perf_counter() - start) * 1000)
    return _mark_indexed(
        database_url, [d.id for d in to_index], ms=ms, version=dictionary_version, read_at=read_at
    )


def _mark_indexed(
    database_url: str, ids: list[str], *, ms: int, version: str, read_at: datetime
) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    per_doc_ms = ms // max(1, len(ids))
    remaining = ids
    # In slices: on SQLite an ingest request waits for the one write lock meanwhile, and a
    # slice ends at the next document once one does (as the extract workers' do).
    while remaining:
        done = 0
        runs: list[dict[str, object]] = []
        with session_scope(database_url, write=True) as session:
            chunk = remaining[:MARK_SLICE]
            docs = {
                d.id: d
                for d in session.scalars(
                    select(Document).options(_MARKING).where(Document.id.in_(chunk))
                )
            }
            for doc_id in chunk:
                done += 1
                doc = docs.get(doc_id)
                if doc is not None and doc.status in INDEXABLE:  # else deleted or reset
                    first_time = doc.status == Status.INDEXING
                    doc.status = Status.INDEXED
                    clear_waiting_note(doc)
                    doc.indexed_at = read_at  # the index holds the document as read then
                    doc.dictionary_version = version
                    if first_time:
                        runs.append(
                            {
                                "document_id": doc.id,
                                "stage": "index",
                                "status": "ok",
                                "ms": per_doc_ms,
                            }
                        )
                    outcomes[doc.id] = doc.status
                if requests_waiting(database_url):
                    break
            add_history(session, runs)
        remaining = remaining[done:]
    return outcomes


def _note_waiting(database_url: str, ids: list[str], reason: str) -> None:
    with session_scope(database_url, write=True) as session:
        for doc in session.scalars(select(Document).where(Document.id.in_(ids))):
            if doc.status == Status.INDEXING:
                doc.error = f"waiting for the search engine: {reason}"
                session.add(
                    StageRun(document_id=doc.id, stage="index", status="retry", detail=reason[:500])
                )


def clear_waiting_note(doc: Document) -> None:
    if doc.error and doc.error.startswith("waiting for the search engine"):
        doc.error = None
