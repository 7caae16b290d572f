"""Dedupe state shared by every worker: exact hashes, MinHash signatures, LSH buckets."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base


class ContentHash(Base):
    """First writer wins: the primary key makes concurrent exact copies race safely."""

    __tablename__ = "content_hashes"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Indexed: a decision forgets the document's hash first, and a deleted document
    # cascades here; both scanned the whole table without it.
    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )


class DedupeSignature(Base):
    __tablename__ = "dedupe_signatures"

    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    minhash: Mapped[bytes] = mapped_column(LargeBinary)
    shingle_count: Mapped[int] = mapped_column(Integer)
    # Order of the decisions (see dedupe.store.save_signature): lets a decision prepared
    # outside the shared lock check only what was decided since.
    seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", index=True)


class LshBucket(Base):
    __tablename__ = "lsh_buckets"

    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    # No separate (band, bucket) index: the primary key starts with those columns and
    # serves the lookups; a second index only cost every insert (80 rows a document).
