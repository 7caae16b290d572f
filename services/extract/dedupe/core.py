"""`deduplicate`: decide, inside the caller's write transaction, what a document is a copy of."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datasketch import LeanMinHash
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.extract.dedupe import signatures as sig
from services.extract.dedupe import store
from services.extract.dedupe.identity import DocIdentity, same_document
from services.extract.dedupe.maintenance import elect, identity_of
from shared.models import Document, Status
from shared.models.base import new_id
from shared.models.dedupe import DedupeSignature

INDEXABLE = (Status.INDEXING, Status.INDEXED)


@dataclass(frozen=True)
class RelationOut:
    other_id: str
    relation: str  # near_duplicate | contains | contained_in (from this document's side)
    similarity: float
    same_document: bool


@dataclass
class DedupeOutcome:
    cluster_id: str | None
    is_canonical: bool
    duplicate_of: str | None
    relations: list[RelationOut] = field(default_factory=list)
    reindex_ids: list[str] = field(default_factory=list)  # others whose index entry changed


def deduplicate(
    session: Session,
    doc: Document,
    *,
    identity: DocIdentity,
    near_threshold: float = 0.8,
    related_threshold: float = 0.6,
    containment_threshold: float = 0.8,
    signature: sig.Signature | None = None,
) -> DedupeOutcome:
    """Idempotent: a re-run forgets what the last run recorded and decides again.

    `signature`: `signatures.signature(doc.text, …)`, computed before the caller's transaction (the
    decision itself is serialised across workers; hashing need not be)."""
    text = doc.text or ""
    # Bands tuned to the lower of the two thresholds: a template copy (J ≈ 0.6–0.75) must be
    # found to be related, and whatever is found is verified on exact shingle sets anyway.
    s = signature or sig.signature(text, threshold=min(near_threshold, related_threshold))
    store.serialize_decisions(session)
    old_cluster = doc.cluster_id
    store.forget(session, doc.id)
    doc.cluster_id, doc.is_canonical, doc.duplicate_of = None, True, None
    doc.meta = {
        **(doc.meta or {}),
        "_identity": {"doc_number": identity.doc_number, "issuers": list(identity.issuers)},
    }
    reindex: set[str] = set()
    if old_cluster:
        reindex.update(_reelect(session, old_cluster, exclude=doc.id))

    # Our own hash, not the cleaning stage's `content_hash`: this one is NFKC-normalised too,
    # and the exact-copy index must not depend on how another stage defines its hash.
    holder = store.claim_hash(session, s.content_hash, doc.id)
    if holder != doc.id:
        doc.is_canonical = False
        return DedupeOutcome(None, False, holder, [], sorted(reindex | {holder}))

    near_candidates = store.lsh_candidates(session, s.band_keys, doc.id)
    part_candidates = store.containment_candidates(session, s.samples, doc.id, min_share=0.5)
    store.save_signature(session, doc.id, sig.to_bytes(s.minhash), s.band_keys, s.samples)

    relations = _verify(
        session,
        doc,
        identity,
        (s.shingles, s.long_shingles),
        (near_candidates, part_candidates),
        minhash=s.minhash,
        near_threshold=near_threshold,
        related_threshold=related_threshold,
        containment_threshold=containment_threshold,
    )
    same = [r.other_id for r in relations if r.same_document]
    if not same:
        return DedupeOutcome(None, True, None, relations, sorted(reindex))

    by_similarity = sorted(
        (r for r in relations if r.same_document), key=lambda r: r.similarity, reverse=True
    )
    others = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(same)))}
    members: dict[str, Document] = {doc.id: doc}
    identities = [identity]
    # Join clusters best match first, and only while every member stays compatible with
    # every other: an excerpt with no issuer or number must not bridge two documents
    # that differ (a province template and a city's adaptation of it).
    for rel in by_similarity:
        other = others.get(rel.other_id)
        if other is None or other.id in members:
            continue
        group = store.cluster_members(session, [other.cluster_id]) if other.cluster_id else [other]
        group_ids = [identity_of(m) for m in group]
        if all(same_document(a, b) for a in identities for b in group_ids):
            members.update({m.id: m for m in group})
            identities += group_ids
    cluster_ids = sorted({m.cluster_id for m in members.values() if m.cluster_id})
    cluster_id = cluster_ids[0] if cluster_ids else new_id()
    if len(members) == 1:
        return DedupeOutcome(None, True, None, relations, sorted(reindex))
    for member in members.values():
        member.cluster_id = cluster_id
    changed = elect(list(members.values()))
    reindex.update(
        m.id
        for m in members.values()
        if m.id != doc.id and (m.id in changed or m.status in INDEXABLE)
    )
    return DedupeOutcome(cluster_id, doc.is_canonical, None, relations, sorted(reindex))


def _verify(
    session: Session,
    doc: Document,
    identity: DocIdentity,
    shingle_sets: tuple[set[str], set[str]],
    candidate_sets: tuple[set[str], set[str]],
    *,
    minhash: LeanMinHash,
    near_threshold: float,
    related_threshold: float,
    containment_threshold: float,
) -> list[RelationOut]:
    """Confirm candidates on exact shingle sets: Jaccard on 4-grams for LSH candidates,
    containment on 8-grams (runs of text, not stock phrases) for sampled ones.

    Jaccard >= `near_threshold` may join a cluster (if the identities agree); between
    `related_threshold` and it, the documents are only related (a city's adaptation of a
    province template): shown on both, never merged."""
    shingles, long_mine = shingle_sets
    near_ids, part_ids = candidate_sets
    found: list[RelationOut] = []
    if not (near_ids or part_ids):
        return found
    rows = session.execute(
        select(
            Document.id,
            Document.text,
            Document.meta,
            Document.content_hash,
            DedupeSignature.minhash,
        )
        .outerjoin(DedupeSignature, DedupeSignature.document_id == Document.id)
        .where(Document.id.in_(list(near_ids | part_ids)), Document.status != Status.DUPLICATE)
    ).all()
    floor = min(near_threshold, related_threshold) - sig.ESTIMATE_MARGIN
    for other_id, other_text, other_meta, other_hash, other_minhash in rows:
        other_text = other_text or ""
        kind: str | None = None
        jaccard = 0.0
        # Same-topic documents share stock phrases and often share a band: the estimate
        # from the stored signatures drops them without reading their text.
        if other_id in near_ids and (
            other_minhash is None or sig.estimated_jaccard(minhash, other_minhash) >= floor
        ):
            other = sig.cached_shingles(other_id, other_hash, other_text, sig.SHINGLE)
            jaccard = sig.jaccard(shingles, other)
            if jaccard >= near_threshold:
                kind, back, sim = "near_duplicate", "near_duplicate", jaccard
        if kind is None and other_id in part_ids:
            long_other = sig.cached_shingles(
                other_id, other_hash, other_text, sig.CONTAINMENT_SHINGLE
            )
            mine_in_other = sig.containment(long_mine, long_other)
            other_in_mine = sig.containment(long_other, long_mine)
            if mine_in_other >= containment_threshold and len(long_mine) <= len(long_other):
                kind, back, sim = "contained_in", "contains", mine_in_other
            elif other_in_mine >= containment_threshold and len(long_other) < len(long_mine):
                kind, back, sim = "contains", "contained_in", other_in_mine
        # Below the merge threshold and not a fragment: related only (never merged).
        mergeable = kind is not None
        if kind is None and jaccard >= related_threshold:
            kind, back, sim = "near_duplicate", "near_duplicate", jaccard
        if kind is None:
            continue
        same = mergeable and same_document(identity, identity_of(_Meta(other_meta)))
        store.set_relation(session, doc.id, other_id, kind, back, sim)
        found.append(RelationOut(other_id, kind, round(sim, 4), same))
    session.flush()
    return found


class _Meta:
    """Just enough of a Document for `identity_of` from a selected `metadata` column."""

    def __init__(self, meta: dict[str, Any] | None) -> None:
        self.meta = meta or {}


def _reelect(session: Session, cluster_id: str, *, exclude: str) -> set[str]:
    members = [m for m in store.cluster_members(session, [cluster_id]) if m.id != exclude]
    if not members:
        return set()
    changed = elect(members)
    return {m.id for m in members if m.id in changed or m.status in INDEXABLE}
