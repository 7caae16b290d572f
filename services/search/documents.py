"""Read documents from the database into the engine's `IndexDocument` shape."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, load_only

from services.search.doc_numbers import normalize_doc_number
from services.search.engines.base import IndexDocument
from shared.models import Document, Status

INDEXABLE = (Status.INDEXING, Status.INDEXED)


# What `to_index_document` and `duplicate_counts` read (and the indexer's status checks):
# every read that feeds them (the indexer's, `iter_indexable`'s) loads only these, and
# leaves the original, the raw and original-script texts unread.
FOR_INDEXING = load_only(
    Document.id,
    Document.status,
    Document.indexed_at,
    Document.title,
    Document.user_title,
    Document.text,
    Document.meta,
    Document.is_canonical,
    Document.cluster_id,
)


def to_index_document(doc: Document, *, duplicates: int, dictionary_version: str) -> IndexDocument:
    meta = doc.meta or {}
    return IndexDocument(
        id=doc.id,
        title=doc.title or meta.get("title") or doc.user_title or _first_line(doc.text or ""),
        text=doc.text or "",
        doc_number=normalize_doc_number(meta.get("doc_number") or ""),
        issuers=list(meta.get("issuers") or []),
        date=_date(meta.get("date")),
        province=meta.get("province"),
        city=meta.get("city"),
        county=meta.get("county"),
        doc_type=meta.get("doc_type"),
        topics=list(meta.get("topics") or []),
        keywords=list(meta.get("keywords") or []),
        is_canonical=doc.is_canonical,
        cluster_id=doc.cluster_id,
        duplicates_count=duplicates,
        dictionary_version=dictionary_version,
    )


def duplicate_counts(session: Session, docs: Sequence[Document]) -> dict[str, int]:
    """Copies hidden behind each canonical document: exact duplicates and cluster members."""
    ids = [d.id for d in docs]
    counts: dict[str, int] = {
        holder: int(n)
        for holder, n in session.execute(
            select(Document.duplicate_of, func.count())
            .where(Document.duplicate_of.in_(ids))
            .group_by(Document.duplicate_of)
        ).all()
        if holder
    }
    clusters = {d.cluster_id for d in docs if d.cluster_id and d.is_canonical}
    if clusters:
        members = dict(
            session.execute(
                select(Document.cluster_id, func.count())
                .where(Document.cluster_id.in_(clusters), Document.is_canonical.is_(False))
                .where(Document.status != Status.DUPLICATE)
                .group_by(Document.cluster_id)
            ).all()
        )
        for d in docs:
            if d.cluster_id in members and d.is_canonical:
                counts[d.id] = counts.get(d.id, 0) + members[d.cluster_id]
    return counts


def iter_indexable(
    session: Session, *, batch_size: int = 500, stale_for: str | None = None
) -> Iterator[list[Document]]:
    """All documents that belong in the index, in batches (keyset on id)."""
    last = ""
    while True:
        stmt = (
            select(Document)
            .options(FOR_INDEXING)
            .where(Document.status.in_(INDEXABLE), Document.id > last)
            .order_by(Document.id)
            .limit(batch_size)
        )
        if stale_for is not None:
            stmt = stmt.where(
                or_(
                    Document.dictionary_version.is_(None),
                    Document.dictionary_version != stale_for,
                )
            )
        rows = list(session.scalars(stmt))
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _date(value: object) -> date | None:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _first_line(text: str, limit: int = 60) -> str:
    """What a result list shows for a document with no known title (metadata stays null)."""
    line = next((x.strip() for x in text.split("\n") if x.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"
