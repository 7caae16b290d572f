"""Cluster upkeep: choose canonical copies, and clean up when a document goes away."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session

from services.extract.dedupe import store
from services.extract.dedupe.identity import Candidate, DocIdentity, elect_canonical
from shared.models import Document, Status
from shared.models.base import utcnow


class HasMeta(Protocol):
    meta: Any


def identity_of(doc: HasMeta) -> DocIdentity:
    meta = doc.meta or {}
    saved = meta.get("_identity") or {}
    number = saved.get("doc_number", meta.get("doc_number"))
    issuers = saved.get("issuers", meta.get("issuers")) or ()
    return DocIdentity(doc_number=number, issuers=tuple(issuers))


def elect(members: Sequence[Document]) -> set[str]:
    """Set `is_canonical` on the members of one cluster; the ids whose flag changed."""
    candidates = []
    for m in members:
        ident = identity_of(m)
        candidates.append(
            Candidate(
                id=m.id,
                length=len(m.text or ""),
                identity_fields=int(bool(ident.doc_number)) + int(bool(ident.issuers)),
                received_at=m.received_at or utcnow(),
            )
        )
    winner = elect_canonical(candidates)
    changed = set()
    for m in members:
        flag = m.id == winner
        if bool(m.is_canonical) != flag:
            changed.add(m.id)
        m.is_canonical = flag
    return changed


def forget_document(session: Session, document_id: str) -> None:
    store.forget(session, document_id)


def reelect_clusters(session: Session, cluster_ids: Iterable[str]) -> list[str]:
    """After a delete: re-choose each cluster's canonical; ids to re-index."""
    reindex: set[str] = set()
    for cluster_id in set(cluster_ids):
        members = store.cluster_members(session, [cluster_id])
        live = [m for m in members if m.status != Status.DUPLICATE]
        if not live:
            continue
        changed = elect(live)
        reindex.update(
            m.id for m in live if m.id in changed or m.status in (Status.INDEXING, Status.INDEXED)
        )
    session.flush()
    return sorted(reindex)
