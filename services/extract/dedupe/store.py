"""The dedupe index in the database, shared by every worker: hashes, signatures, buckets."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import cast

from sqlalchemy import Table, TextClause, delete, func, insert, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.models import Document, Relation
from shared.models.dedupe import ContentHash, DedupeSignature, LshBucket

SAMPLE_BAND = -1  # containment samples live beside the LSH bands, band -1
# These tables are only ever written here, with Core statements on the connection: the
# ORM's bulk and DML paths (identity-map sync, per-row bookkeeping) cost more than the
# SQL itself, inside the transaction every dedupe decision waits for.
HASHES = cast(Table, ContentHash.__table__)
SIGNATURES = cast(Table, DedupeSignature.__table__)
BUCKETS = cast(Table, LshBucket.__table__)


def serialize_decisions(session: Session) -> None:
    """One dedupe decision at a time across all workers, until this transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the write engine already
    begins IMMEDIATE, which serialises writers.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('policy-search:dedupe'))"))


def claim_hash(session: Session, content_hash: str, document_id: str) -> str:
    """Record `document_id` as holder of `content_hash` unless another holds it; the holder."""
    connection = session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        insert(HASHES)
        .values(hash=content_hash, document_id=document_id)
        .on_conflict_do_nothing(index_elements=["hash"])
    )
    holder = connection.scalar(select(HASHES.c.document_id).where(HASHES.c.hash == content_hash))
    return holder or document_id


def save_signature(
    session: Session,
    document_id: str,
    minhash: bytes,
    band_keys: list[tuple[int, str]],
    samples: list[str],
) -> None:
    # `shingle_count` holds the number of containment samples: what candidate search
    # divides by. Table-level executemany: ORM objects cost 10 ms per document here, and
    # even the ORM's bulk insert path spends 2 ms collecting ~70 rows.
    rows = [{"band": band, "bucket": key, "document_id": document_id} for band, key in band_keys]
    rows += [{"band": SAMPLE_BAND, "bucket": s, "document_id": document_id} for s in set(samples)]
    connection = session.connection()
    connection.execute(
        insert(SIGNATURES),
        [{"document_id": document_id, "minhash": minhash, "shingle_count": len(set(samples))}],
    )
    connection.execute(insert(BUCKETS), rows)


@lru_cache(maxsize=8)
def _bucket_lookup(n: int) -> TextClause:
    # Plain SQL, cached per band count: building the same 32-way OR as SQLAlchemy
    # expressions took 6 ms per document against 0.2 ms for this (both use the index).
    where = " OR ".join(f"(band = :b{i} AND bucket = :k{i})" for i in range(n))
    return text(f"SELECT document_id FROM lsh_buckets WHERE ({where}) AND document_id != :me")


def lsh_candidates(session: Session, band_keys: list[tuple[int, str]], exclude: str) -> set[str]:
    if not band_keys:
        return set()
    params: dict[str, object] = {"me": exclude}
    for i, (band, key) in enumerate(band_keys):
        params[f"b{i}"], params[f"k{i}"] = band, key
    return set(session.scalars(_bucket_lookup(len(band_keys)), params))


def containment_candidates(
    session: Session, samples: list[str], exclude: str, *, min_share: float, limit: int = 10
) -> set[str]:
    """Documents sharing at least `min_share` of the smaller of the two sample sets."""
    if not samples:
        return set()
    connection = session.connection()
    shared: dict[str, int] = dict(
        connection.execute(
            select(BUCKETS.c.document_id, func.count())
            .where(BUCKETS.c.band == SAMPLE_BAND, BUCKETS.c.bucket.in_(samples))
            .where(BUCKETS.c.document_id != exclude)
            .group_by(BUCKETS.c.document_id)
            .order_by(func.count().desc())
            .limit(limit * 5)
        ).all()
    )
    if not shared:
        return set()
    sizes: dict[str, int] = dict(
        connection.execute(
            select(SIGNATURES.c.document_id, SIGNATURES.c.shingle_count).where(
                SIGNATURES.c.document_id.in_(list(shared))
            )
        ).all()
    )
    # Stock phrases make a few shared samples common; require 3+ (fewer only for a short
    # fragment that has fewer samples in all) and the share of the smaller sample set,
    # best first, so verification only reads a handful of texts.
    smaller = {doc_id: min(len(samples), sizes.get(doc_id, 0)) for doc_id in shared}
    ranked = sorted(
        (
            (n / max(1, smaller[doc_id]), doc_id)
            for doc_id, n in shared.items()
            if n >= min(3, smaller[doc_id])
        ),
        reverse=True,
    )
    return {doc_id for share, doc_id in ranked[:limit] if share >= min_share}


def set_relation(session: Session, a: str, b: str, kind_ab: str, kind_ba: str, sim: float) -> None:
    session.execute(
        delete(Relation).where(
            or_(
                (Relation.document_id == a) & (Relation.other_id == b),
                (Relation.document_id == b) & (Relation.other_id == a),
            )
        )
    )
    session.add(Relation(document_id=a, other_id=b, relation=kind_ab, similarity=round(sim, 4)))
    session.add(Relation(document_id=b, other_id=a, relation=kind_ba, similarity=round(sim, 4)))


def forget(session: Session, document_id: str) -> None:
    """Remove everything dedupe knows about a document (re-run, new version, delete)."""
    connection = session.connection()
    for table in (HASHES, SIGNATURES, BUCKETS):
        connection.execute(delete(table).where(table.c.document_id == document_id))
    session.execute(
        delete(Relation).where(
            or_(Relation.document_id == document_id, Relation.other_id == document_id)
        )
    )
    session.flush()


def cluster_members(session: Session, cluster_ids: Iterable[str]) -> list[Document]:
    ids = [c for c in cluster_ids if c]
    if not ids:
        return []
    return list(session.scalars(select(Document).where(Document.cluster_id.in_(ids))))
