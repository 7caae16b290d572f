"""Dedupe stage: exact copies, near-duplicates and fragments (services.extract.dedupe)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.extract.dedupe import DocIdentity, deduplicate
from services.extract.dedupe.signatures import Signature, signature
from services.extract.metadata import extract_metadata
from services.extract.pipeline.base import Applied, Stage
from shared import tasks
from shared.models import Document, Status
from shared.settings import get_settings


class DedupeStage(Stage):
    name = "dedupe"
    running_status = Status.DEDUPLICATING
    accepts = frozenset({Status.DEDUPLICATING})
    next_task = tasks.EXTRACT

    def compute(self, doc: Document) -> tuple[DocIdentity, Signature]:
        # Whether two copies are the same legal document depends on who issued them and
        # their 发文字号, so dedupe needs those two fields before the extract stage runs.
        text = doc.text or ""
        meta = extract_metadata(text, user=doc.user_metadata or None)
        identity = DocIdentity(
            doc_number=meta.get("doc_number"), issuers=tuple(meta.get("issuers") or ())
        )
        settings = get_settings()
        lowest = min(settings.near_duplicate_threshold, settings.related_threshold)
        return identity, signature(text, threshold=lowest)

    def apply(self, session: Session, doc: Document, result: Any) -> Applied:
        settings = get_settings()
        identity, sig = result
        outcome = deduplicate(
            session,
            doc,
            identity=identity,
            signature=sig,
            near_threshold=settings.near_duplicate_threshold,
            related_threshold=settings.related_threshold,
            containment_threshold=settings.containment_threshold,
        )
        doc.cluster_id = outcome.cluster_id
        doc.is_canonical = outcome.is_canonical
        if outcome.duplicate_of:
            doc.duplicate_of = outcome.duplicate_of
            return Applied(
                Status.DUPLICATE,
                detail=f"exact duplicate of {outcome.duplicate_of}",
                also_index=outcome.reindex_ids,
            )
        related = len(outcome.relations)
        return Applied(
            Status.EXTRACTING,
            detail=f"{related} related document(s)" if related else None,
            also_index=outcome.reindex_ids,
        )
