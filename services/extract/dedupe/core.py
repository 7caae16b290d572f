"""`deduplicate`: decide, inside the caller's write transaction, what a document is a copy of."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from cachetools import LRUCache
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from services.extract.dedupe import signatures as sig
from services.extract.dedupe import store
from services.extract.dedupe.identity import DocIdentity, same_document
from services.extract.dedupe.maintenance import elect, identity_of
from shared.models import Document, Status
from shared.models.base import new_id
from shared.models.dedupe import ContentHash, DedupeSignature

INDEXABLE = (Status.INDEXING, Status.INDEXED)
# Built once (see store.py): a decision runs these for every document.
_IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)
# Candidates come from the LSH index, so each has a signature, and a document with one is
# never an exact duplicate (a decision forgets it first). Their text hash comes from the
# exact-copy index, not `documents`: on SQLite that row holds the original and the texts
# before `content_hash`, and reading it walked their overflow pages for every candidate
# (~50 a document on the bench's corpus).
_CANDIDATES = (
    select(
        DedupeSignature.document_id.label("id"),
        ContentHash.hash,
        DedupeSignature.minhash,
        DedupeSignature.seq,
    )
    .outerjoin(ContentHash, ContentHash.document_id == DedupeSignature.document_id)
    .where(DedupeSignature.document_id.in_(_IDS))
)
_VERSIONS = select(DedupeSignature.document_id, DedupeSignature.seq).where(
    DedupeSignature.document_id.in_(_IDS)
)
_METAS = select(Document.id, Document.meta).where(Document.id.in_(_IDS))
_TEXTS = select(Document.id, Document.text).where(Document.id.in_(_IDS))


class _Candidate(NamedTuple):
    id: str
    hash: str | None  # the text's hash in the exact-copy index
    minhash: bytes


# Candidates' signature rows by (id, seq): a decision has ~100 LSH candidates on the
# bench's corpus (stock phrases share bands), and reading their 1 KB signatures again for
# every document was most of the candidate check. `seq` changes whenever a document is
# decided again, so a cached row is never stale. ~1.1 KB an entry.
STORED_CANDIDATES: LRUCache[tuple[str, int], _Candidate] = LRUCache(maxsize=20_000)


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


@dataclass(frozen=True)
class Thresholds:
    near: float = 0.8
    related: float = 0.6
    containment: float = 0.8

    @property
    def lowest(self) -> float:
        return min(self.near, self.related)


@dataclass(frozen=True)
class _Found:
    """A verified candidate, not yet recorded."""

    other_id: str
    kind: str  # from this document's side
    back: str  # from the other's side
    similarity: float
    other_identity: DocIdentity | None  # set when the pair may join a cluster


@dataclass(frozen=True)
class Prepared:
    """What the committed index said before the decision: candidates verified (the costly
    part: reading and comparing texts) with no lock held, and the newest signature seen.
    The decision then only checks what was decided since (`store.save_signature`)."""

    watermark: int
    found: tuple[_Found, ...]


def prepare(session: Session, doc_id: str, s: sig.Signature, thresholds: Thresholds) -> Prepared:
    """Read-only: run in any session, outside the serialised decision."""
    mark = store.watermark(session)  # before the lookups: later writes fall in the delta
    near, part = _candidates(session, doc_id, s)
    return Prepared(mark, tuple(_verify(session, s, thresholds, near, part)))


class DecisionBatch:
    """A stage's batch of decisions, made one after another under the decision lock
    (committed in slices): the signatures decided since the batch's watermark are read
    once, then only what is newer."""

    def __init__(self) -> None:
        self._recent: store.RecentSignatures | None = None

    def recent(self, session: Session, since: int) -> store.RecentSignatures:
        if self._recent is None or since < self._recent.since:
            self._recent = store.RecentSignatures(session, since)
        else:
            self._recent.catch_up(session)  # the lock may have been let go in between
        return self._recent


def deduplicate(
    session: Session,
    doc: Document,
    *,
    identity: DocIdentity,
    near_threshold: float = 0.8,
    related_threshold: float = 0.6,
    containment_threshold: float = 0.8,
    signature: sig.Signature | None = None,
    prepared: Prepared | None = None,
    batch: DecisionBatch | None = None,
) -> DedupeOutcome:
    """Idempotent: a re-run forgets what the last run recorded and decides again.

    `signature`: `signatures.signature(doc.text, …)`, and `prepared`: `prepare(…)`, both
    computed before the caller's transaction (the decision itself is serialised across
    workers; hashing and comparing texts need not be). `batch`: shared by the decisions
    the caller makes in this same transaction."""
    thresholds = Thresholds(near_threshold, related_threshold, containment_threshold)
    text = doc.text or ""
    # Bands tuned to the lower of the two thresholds: a template copy (J ≈ 0.6–0.75) must be
    # found to be related, and whatever is found is verified on exact shingle sets anyway.
    s = signature or sig.signature(text, threshold=thresholds.lowest)
    store.serialize_decisions(session)
    old_cluster = doc.cluster_id
    # Nothing is flushed here (unless the document is not inserted yet: the statements
    # below refer to its row): the caller's pending changes to it go out in one UPDATE
    # with this decision's. SQLite rewrites a whole row on UPDATE, original and texts
    # included, and flushing here and after the relations made it three rewrites of every
    # document in the pipeline's apply, inside the write turn.
    if inspect(doc).pending:
        session.flush()
    store.forget_rows(session, doc.id)
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

    recent: store.RecentSignatures | None = None
    if prepared is None:
        near, part = _candidates(session, doc.id, s)
        found = _verify(session, s, thresholds, near, part)
    else:
        # What was decided since the preparation, then what it found that still stands.
        since = prepared.watermark
        recent = (batch or DecisionBatch()).recent(session, since)
        # Ids only, no versions: the delta in memory does not see deletions, so whether
        # each candidate still has a signature is read again (`_candidate_rows`).
        fresh = _verify(
            session,
            s,
            thresholds,
            recent.lsh_candidates(s.band_keys, doc.id, since=since),
            recent.containment_candidates(s.samples, doc.id, since=since, min_share=0.5),
        )
        fresh_ids = {f.other_id for f in fresh}
        earlier = [f for f in prepared.found if f.other_id not in fresh_ids]
        kept = store.still_indexed(session, (f.other_id for f in earlier), upto=since)
        found = [f for f in earlier if f.other_id in kept] + fresh
    seq, posted = store.save_signature(
        session, doc.id, sig.to_bytes(s.minhash), s.band_keys, s.samples
    )
    if recent is not None:
        recent.add(doc.id, seq, s.band_keys, posted, samples=len(set(s.samples)))
    relations = _record(session, doc.id, identity, found)

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


def _record(
    session: Session, doc_id: str, identity: DocIdentity, found: list[_Found]
) -> list[RelationOut]:
    out: list[RelationOut] = []
    for f in found:
        store.set_relation(session, doc_id, f.other_id, f.kind, f.back, f.similarity)
        same = f.other_identity is not None and same_document(identity, f.other_identity)
        out.append(RelationOut(f.other_id, f.kind, round(f.similarity, 4), same))
    return out


def _candidates(session: Session, doc_id: str, s: sig.Signature) -> tuple[dict[str, int], set[str]]:
    """From the whole index: LSH band mates (with their signature's version); documents
    sharing containment samples."""
    return (
        store.lsh_candidates(session, s.band_keys, doc_id),
        store.containment_candidates(session, s.samples, doc_id, min_share=0.5),
    )


def _verify(
    session: Session,
    s: sig.Signature,
    thresholds: Thresholds,
    near_ids: set[str] | dict[str, int],
    part_ids: set[str],
) -> list[_Found]:
    """Candidates confirmed on exact shingle sets: Jaccard on 4-grams for LSH candidates,
    containment on 8-grams (runs of text, not stock phrases) for sampled ones.

    Jaccard >= `near` may join a cluster (if the identities agree); between `related` and
    it, the documents are only related (a city's adaptation of a province template):
    shown on both, never merged. `near_ids` may map each to its signature's version."""
    if not (near_ids or part_ids):
        return []
    versions = near_ids if isinstance(near_ids, dict) else {}
    rows = _candidate_rows(session, set(near_ids) | part_ids, versions)
    # Same-topic documents share stock phrases and often share a band: the estimate from
    # the stored signatures drops them without reading their text.
    floor = thresholds.lowest - sig.ESTIMATE_MARGIN
    with_minhash = [r for r in rows if r.id in near_ids]
    estimates = dict(
        zip(
            (r.id for r in with_minhash),
            sig.estimated_jaccard(s.minhash, [r.minhash for r in with_minhash]).tolist(),
            strict=True,
        )
    )
    compare_near = {r.id for r in rows if r.id in near_ids and estimates.get(r.id, 1.0) >= floor}
    compare = [r for r in rows if r.id in compare_near or r.id in part_ids]
    stored = _stored_shingles(session, [(r.id, r.hash) for r in compare])
    found: list[tuple[str, str, str, float, bool]] = []
    for other_id, _, _ in compare:
        short_other, long_other = stored[other_id]
        kind: str | None = None
        back = ""
        sim = jaccard = 0.0
        if other_id in compare_near:
            jaccard = sig.jaccard(s.shingles, short_other)
            if jaccard >= thresholds.near:
                kind, back, sim = "near_duplicate", "near_duplicate", jaccard
        if kind is None and other_id in part_ids:
            both = sig.shared(s.long_shingles, long_other)
            mine_in_other = both / max(1, s.long_shingles.size)
            other_in_mine = both / max(1, long_other.size)
            if mine_in_other >= thresholds.containment and s.long_shingles.size <= long_other.size:
                kind, back, sim = "contained_in", "contains", mine_in_other
            elif other_in_mine >= thresholds.containment and long_other.size < s.long_shingles.size:
                kind, back, sim = "contains", "contained_in", other_in_mine
        # Below the merge threshold and not a fragment: related only (never merged).
        mergeable = kind is not None
        if kind is None and jaccard >= thresholds.related:
            kind, back, sim = "near_duplicate", "near_duplicate", jaccard
        if kind is None:
            continue
        found.append((other_id, kind, back, sim, mergeable))
    # Only a pair that may merge needs the other's identity; metadata is the largest JSON
    # of a row, and decoding it for every candidate was a sixth of the stage.
    metas = _metas(session, [f[0] for f in found if f[4]])
    return [
        _Found(i, kind, back, sim, identity_of(_Meta(metas.get(i))) if mergeable else None)
        for i, kind, back, sim, mergeable in found
    ]


def _candidate_rows(session: Session, ids: set[str], versions: dict[str, int]) -> list[_Candidate]:
    """The candidates still in the index with their signatures: from the cache where the
    version matches, else read. `versions`: those already known, read in this session."""
    found: list[_Candidate] = []
    missing: list[str] = []
    unknown = [i for i in ids if i not in versions]
    known = [(i, versions[i]) for i in ids if i in versions]
    if unknown:
        known += [(doc_id, seq) for doc_id, seq in session.execute(_VERSIONS, {"ids": unknown})]
    for doc_id, seq in known:
        cached = STORED_CANDIDATES.get((doc_id, seq))
        if cached is None:
            missing.append(doc_id)
        else:
            found.append(cached)
    if missing:
        for row in session.execute(_CANDIDATES, {"ids": missing}):
            candidate = _Candidate(row.id, row.hash, row.minhash)
            STORED_CANDIDATES[row.id, row.seq] = candidate
            found.append(candidate)
    return found


def _metas(session: Session, ids: list[str]) -> dict[str, Any]:
    if not ids:
        return {}
    return dict(session.execute(_METAS, {"ids": ids}).all())


def _stored_shingles(
    session: Session, docs: list[tuple[str, str | None]]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(4-gram, 8-gram) hashes of stored documents: from the cache, else from their text.
    `docs`: (id, the text's hash in the exact-copy index), the cache key."""
    cache = sig.STORED_SHINGLES
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    missing: list[str] = []
    hashes = dict(docs)
    for doc_id, content_hash in docs:
        short = cache.get((doc_id, content_hash, sig.SHINGLE))
        long = cache.get((doc_id, content_hash, sig.CONTAINMENT_SHINGLE))
        if short is None or long is None:
            missing.append(doc_id)
        else:
            out[doc_id] = (short, long)
    if missing:
        rows = session.execute(_TEXTS, {"ids": missing})
        for doc_id, text in rows:
            short = sig.shingle_hashes(text or "", sig.SHINGLE)
            long = sig.shingle_hashes(text or "", sig.CONTAINMENT_SHINGLE)
            cache[doc_id, hashes[doc_id], sig.SHINGLE] = short
            cache[doc_id, hashes[doc_id], sig.CONTAINMENT_SHINGLE] = long
            out[doc_id] = (short, long)
    empty = np.zeros(0, dtype=np.uint32)
    for doc_id, _ in docs:
        out.setdefault(doc_id, (empty, empty))  # deleted meanwhile
    return out


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
