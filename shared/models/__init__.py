"""All tables, imported here so Alembic and `Base.metadata` see every one."""

from shared.models.auth import ApiKey
from shared.models.base import Base, new_id, utcnow
from shared.models.dedupe import ContentHash, DedupeSignature, LshBucket
from shared.models.documents import (
    FINAL_STATUSES,
    Document,
    DocumentVersion,
    Relation,
    StageRun,
    Status,
    add_history,
)
from shared.models.outbox import IdempotencyRecord, OutboxEvent
from shared.models.sources import SeenUrl, Source

__all__ = [
    "FINAL_STATUSES",
    "ApiKey",
    "Base",
    "ContentHash",
    "DedupeSignature",
    "Document",
    "DocumentVersion",
    "IdempotencyRecord",
    "LshBucket",
    "OutboxEvent",
    "Relation",
    "SeenUrl",
    "Source",
    "StageRun",
    "Status",
    "add_history",
    "new_id",
    "utcnow",
]
