"""dedupe: decisions carry their order; shingles hashed by the vectorised scheme

Revision ID: 0002
Revises: 0001

`seq` lets a dedupe decision prepared outside the shared lock check only what was decided
since; the (band, bucket) index duplicated the primary key. Signatures, bands and samples written under hash scheme 1 can never match scheme
2's, so they are recomputed here from the stored texts: a database upgraded in place
keeps finding copies of the documents it already holds.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dedupe_signatures") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0"))
        batch.create_index("ix_dedupe_signatures_seq", ["seq"])
    # The primary key (band, bucket, document_id) serves (band, bucket) lookups already.
    with op.batch_alter_table("lsh_buckets") as batch:
        batch.drop_index("ix_lsh_buckets_band_bucket")
    _rehash()


def _rehash() -> None:
    from services.extract.dedupe import signatures as sig
    from shared.settings import get_settings

    settings = get_settings()
    lowest = min(settings.near_duplicate_threshold, settings.related_threshold)
    conn = op.get_bind()
    ids = list(conn.scalars(sa.text("SELECT document_id FROM dedupe_signatures")))
    conn.execute(sa.text("DELETE FROM lsh_buckets"))  # every row is scheme 1
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(
            sa.text("SELECT id, text FROM documents WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": chunk},
        ).all()
        for doc_id, text in rows:
            s = sig.signature(text or "", threshold=lowest)
            samples = sorted(set(s.samples))
            conn.execute(
                sa.text(
                    "UPDATE dedupe_signatures SET minhash = :m, shingle_count = :n"
                    " WHERE document_id = :id"
                ),
                {"m": sig.to_bytes(s.minhash), "n": len(samples), "id": doc_id},
            )
            buckets = [{"b": b, "k": k, "d": doc_id} for b, k in s.band_keys]
            buckets += [{"b": sig.SAMPLE_BAND, "k": x, "d": doc_id} for x in samples]
            if buckets:
                conn.execute(
                    sa.text(
                        "INSERT INTO lsh_buckets (band, bucket, document_id) VALUES (:b, :k, :d)"
                    ),
                    buckets,
                )


def downgrade() -> None:
    with op.batch_alter_table("lsh_buckets") as batch:
        batch.create_index("ix_lsh_buckets_band_bucket", ["band", "bucket"])
    with op.batch_alter_table("dedupe_signatures") as batch:
        batch.drop_index("ix_dedupe_signatures_seq")
        batch.drop_column("seq")
