"""Dedupe stage: exact copies, near-duplicates and fragments (services.extract.dedupe)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from services.extract.dedupe import DocIdentity, deduplicate
from services.extract.dedupe.core import DecisionBatch, Prepared, Thresholds, prepare
from services.extract.dedupe.signatures import (
    CONTAINMENT_SHINGLE,
    SHINGLE,
    STORED_SHINGLES,
    Signature,
    signature,
)
from services.extract.metadata import identity_fields
from services.extract.pipeline.base import Applied, Stage
from shared import tasks
from shared.models import Document, Status
from shared.settings import get_settings


@dataclass(frozen=True, slots=True)
class Computed:
    identity: DocIdentity
    signature: Signature
    prepared: Prepared


def _thresholds() -> Thresholds:
    settings = get_settings()
    return Thresholds(
        near=settings.near_duplicate_threshold,
        related=settings.related_threshold,
        containment=settings.containment_threshold,
    )


class DedupeStage(Stage):
    """One instance per task: its batch's decisions share one `DecisionBatch`."""

    name = "dedupe"
    running_status = Status.DEDUPLICATING
    accepts = frozenset({Status.DEDUPLICATING})
    next_task = tasks.EXTRACT

    def __init__(self) -> None:
        self._batch = DecisionBatch()

    def compute(self, doc: Document, reader: Session) -> Computed:
        # Whether two copies are the same legal document depends on who issued them and
        # their 发文字号, so dedupe needs those two fields before the extract stage runs.
        text = doc.text or ""
        number, issuers = identity_fields(text, user=doc.user_metadata or None)
        identity = DocIdentity(doc_number=number, issuers=tuple(issuers))
        thresholds = _thresholds()
        sig = signature(text, threshold=thresholds.lowest)
        # Batch-mates and recent documents are the likeliest candidates of what comes next.
        # Keyed by the hash the exact-copy index will hold for this text (what a candidate
        # read later is looked up by).
        STORED_SHINGLES[doc.id, sig.content_hash, SHINGLE] = sig.shingles
        STORED_SHINGLES[doc.id, sig.content_hash, CONTAINMENT_SHINGLE] = sig.long_shingles
        # Reading and comparing candidates here, in parallel and with no lock held, leaves
        # the serialised decision only what was decided since (at most a few batches).
        return Computed(identity, sig, prepare(reader, doc.id, sig, thresholds))

    def apply(self, session: Session, doc: Document, result: Any) -> Applied:
        computed: Computed = result
        t = _thresholds()
        outcome = deduplicate(
            session,
            doc,
            identity=computed.identity,
            signature=computed.signature,
            prepared=computed.prepared,
            batch=self._batch,
            near_threshold=t.near,
            related_threshold=t.related,
            containment_threshold=t.containment,
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
