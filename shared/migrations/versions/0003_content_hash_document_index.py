"""dedupe: index the exact-copy index by document

Revision ID: 0003
Revises: 0002

Every dedupe decision first forgets what the document held (`DELETE FROM content_hashes
WHERE document_id = …`), and deleting a document cascades to this table: without an index
both scanned every row, a cost that grew with the corpus.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("content_hashes") as batch:
        batch.create_index("ix_content_hashes_document_id", ["document_id"])


def downgrade() -> None:
    with op.batch_alter_table("content_hashes") as batch:
        batch.drop_index("ix_content_hashes_document_id")
