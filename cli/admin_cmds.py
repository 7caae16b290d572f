"""Operator commands that work on the database and the index directly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from shared.db import session_scope
from shared.models import Document
from shared.settings import get_settings


def status_counts() -> dict[str, int]:
    from services.ingest.inbox import Inbox

    url = get_settings().resolved_database_url
    with session_scope(url) as session:
        rows = session.execute(
            select(Document.status, func.count()).group_by(Document.status)
        ).all()
    counts = {status: count for status, count in rows}
    # Posted and answered `received`, not yet moved into the database by the relay.
    if (inbox := Inbox.of(url)) is not None and (waiting := len(inbox.waiting())):
        counts["received"] = counts.get("received", 0) + waiting
    return counts


def reindex(*, stale_only: bool) -> dict[str, Any]:
    """Rebuild the index from the database (or re-index only documents analysed with an
    older dictionary) and record the dictionary version on each document."""
    from services.search.analysis import get_analyzer
    from services.search.documents import duplicate_counts, iter_indexable, to_index_document
    from services.search.engines import create_engine
    from services.search.engines.base import IndexDocument
    from shared.runtime import run_async

    settings = get_settings()
    version = get_analyzer().dictionary_version
    engine = create_engine(settings, writable=True)
    indexed_ids: list[str] = []

    def batches() -> Iterator[list[IndexDocument]]:
        with session_scope(settings.resolved_database_url) as session:
            stale = version if stale_only else None
            for rows in iter_indexable(session, stale_for=stale):
                counts = duplicate_counts(session, rows)
                indexed_ids.extend(d.id for d in rows)
                yield [
                    to_index_document(d, duplicates=counts.get(d.id, 0), dictionary_version=version)
                    for d in rows
                ]

    if stale_only:
        for batch in batches():
            run_async(engine.index(batch))
    else:
        run_async(engine.rebuild(batches()))
    _record_version(indexed_ids, version)
    run_async(engine.close())
    return {
        "indexed": len(indexed_ids),
        "dictionary_version": version,
        "mode": "stale" if stale_only else "full",
    }


def _record_version(ids: list[str], version: str) -> None:
    from sqlalchemy import update

    url = get_settings().resolved_database_url
    for start in range(0, len(ids), 500):
        with session_scope(url, write=True) as session:
            session.execute(
                update(Document)
                .where(Document.id.in_(ids[start : start + 500]))
                .values(dictionary_version=version)
            )
