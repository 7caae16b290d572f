"""Dedupe state shared by every worker: exact hashes, MinHash signatures, LSH buckets."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base


class ContentHash(Base):
    """First writer wins: the primary key makes concurrent exact copies race safely."""

    __tablename__ = "content_hashes"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))


class DedupeSignature(Base):
    __tablename__ = "dedupe_signatures"

    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    minhash: Mapped[bytes] = mapped_column(LargeBinary)
    shingle_count: Mapped[int] = mapped_column(Integer)


class LshBucket(Base):
    __tablename__ = "lsh_buckets"

    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    __table_args__ = (Index("ix_lsh_buckets_band_bucket", "band", "bucket"),)
