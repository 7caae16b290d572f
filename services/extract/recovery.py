"""Keeping documents moving: the stuck-document sweeper, giving up, re-clustering.

The sweeper is the last line of defence: whatever was lost (a task dropped with a dead
worker on a broker without redelivery, an event never published), a document left in a
non-final status for too long is handed to its stage's task again. Stages are
idempotent, so a document that was merely slow is not harmed by a second delivery.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from services.extract.pipeline.base import Stage
from shared import outbox, tasks
from shared.db import session_scope
from shared.events import DocumentBatch, DocumentsRemoved, FetchRequested
from shared.models import FINAL_STATUSES, Document, StageRun, Status, utcnow
from shared.outbox import TaskSender, publish_pending

log = logging.getLogger(__name__)

TASK_FOR_STATUS = {
    Status.FETCHING: tasks.FETCH,
    Status.RECEIVED: tasks.CLEAN,
    Status.CLEANING: tasks.CLEAN,
    Status.DEDUPLICATING: tasks.DEDUPE,
    Status.EXTRACTING: tasks.EXTRACT,
    Status.INDEXING: tasks.INDEX,
}


def sweep_stuck_documents(
    database_url: str, *, older_than_seconds: int, sender: TaskSender | None
) -> int:
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    by_task: dict[str, list[str]] = defaultdict(list)
    with session_scope(database_url, write=True) as session:
        stuck = session.scalars(
            select(Document)
            .where(Document.status.not_in([s.value for s in FINAL_STATUSES]))
            .where(Document.updated_at < cutoff)
            .limit(5000)
        ).all()
        for doc in stuck:
            by_task[TASK_FOR_STATUS[Status(doc.status)]].append(doc.id)
            doc.updated_at = utcnow()  # don't sweep it again next minute
            session.add(
                StageRun(document_id=doc.id, stage="sweep", status="retry", detail="re-published")
            )
        for task_name, ids in by_task.items():
            for start in range(0, len(ids), 32):
                chunk = ids[start : start + 32]
                event = (
                    FetchRequested(document_ids=chunk)
                    if task_name == tasks.FETCH
                    else DocumentBatch(document_ids=chunk)
                )
                outbox.enqueue(session, task_name, event)
    if sender is not None and by_task:
        publish_pending(database_url, sender)
    total = sum(len(v) for v in by_task.values())
    if total:
        log.warning("re-published %s stuck documents", total)
    return total


def fail_documents(
    database_url: str, ids: Sequence[str], *, stages: Sequence[Stage], reason: str
) -> None:
    """Fail each document at the first of `stages` that accepts its status."""
    with session_scope(database_url, write=True) as session:
        for doc in session.scalars(select(Document).where(Document.id.in_(list(ids)))):
            stage = next((s for s in stages if doc.status in s.accepts), None)
            if stage is not None:
                doc.status = Status.FAILED
                doc.error = reason
                doc.failed_stage = stage.name
                session.add(
                    StageRun(document_id=doc.id, stage=stage.name, status="failed", detail=reason)
                )


def recluster_after_delete(
    database_url: str, kwargs: dict[str, Any], *, sender: TaskSender | None
) -> int:
    """Re-elect canonical documents in the clusters a deleted document belonged to."""
    from services.extract.dedupe import reelect_clusters

    event = DocumentsRemoved.model_validate({**kwargs, "type": "documents.removed"})
    with session_scope(database_url, write=True) as session:
        reindex = reelect_clusters(session, event.cluster_ids)
        if reindex:
            outbox.enqueue(session, tasks.INDEX, DocumentBatch(document_ids=reindex))
    if sender is not None and reindex:
        publish_pending(database_url, sender)
    return len(reindex)
