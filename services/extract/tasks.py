"""Thin Celery wrappers around the pipeline stages and the periodic jobs.

Tasks take an event's fields as kwargs (JSON), re-read state from the database and are
idempotent. Only named transient errors are retried, with backoff and jitter.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from sqlalchemy.exc import OperationalError

from services.extract.pipeline.base import Stage, TransientError
from services.extract.pipeline.clean import CleanStage
from services.extract.pipeline.dedupe import DedupeStage
from services.extract.pipeline.extract import ExtractStage
from services.extract.pipeline.fetch import FetchStage
from services.extract.pipeline.runner import parse_sent_at, run_stages
from services.extract.worker import celery_app
from shared import tasks
from shared.events import DocumentBatch
from shared.observability import document_ids_var, request_id_var
from shared.settings import get_settings

log = logging.getLogger(__name__)
RETRYABLE = (OperationalError, TransientError)
RETRY = {
    "bind": True,
    "autoretry_for": RETRYABLE,
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}


def _run(task: Task, stages: list[Stage], kwargs: dict[str, Any]) -> dict[str, str]:
    """Run `stages` back to back on the event's documents.

    The extract pipeline's stages run in one task: a batch goes from clean to extract in
    one worker without three broker round trips, and the search indexer gets each batch
    as soon as it is extracted instead of after every batch was cleaned (FIFO queue). A
    redelivered or retried task resumes where it stopped: each document starts at the
    first stage that accepts its status."""
    event = DocumentBatch.model_validate({**kwargs, "type": "documents.batch"})
    rid = request_id_var.set(event.request_id)
    ids = document_ids_var.set(event.document_ids)
    try:
        settings = get_settings()
        try:
            return run_stages(
                stages,
                event.document_ids,
                database_url=settings.resolved_database_url,
                sender=celery_app,
                request_id=event.request_id,
                sent_at=parse_sent_at(kwargs.get("sent_at")),
            )
        except TransientError as exc:
            if task.request.retries >= RETRY["max_retries"]:
                from services.extract.recovery import fail_documents

                fail_documents(
                    settings.resolved_database_url,
                    event.document_ids,
                    stages=stages,
                    reason=f"gave up after {task.request.retries} retries: {exc}",
                )
                return {}
            raise
    finally:
        request_id_var.reset(rid)
        document_ids_var.reset(ids)


@celery_app.task(name=tasks.FETCH, **RETRY)
def fetch(self: Task, **kwargs: Any) -> dict[str, str]:
    return _run(self, [FetchStage()], kwargs)


@celery_app.task(name=tasks.CLEAN, **RETRY)
def clean(self: Task, **kwargs: Any) -> dict[str, str]:
    return _run(self, [CleanStage(), DedupeStage(), ExtractStage()], kwargs)


@celery_app.task(name=tasks.DEDUPE, **RETRY)
def dedupe(self: Task, **kwargs: Any) -> dict[str, str]:
    return _run(self, [DedupeStage(), ExtractStage()], kwargs)


@celery_app.task(name=tasks.EXTRACT, **RETRY)
def extract(self: Task, **kwargs: Any) -> dict[str, str]:
    return _run(self, [ExtractStage()], kwargs)


@celery_app.task(name=tasks.RECLUSTER, **RETRY)
def recluster(self: Task, **kwargs: Any) -> int:
    from services.extract.recovery import recluster_after_delete

    return recluster_after_delete(get_settings().resolved_database_url, kwargs, sender=celery_app)


@celery_app.task(name=tasks.SWEEP_STUCK, bind=True, acks_late=True)
def sweep_stuck(self: Task, **_: Any) -> int:
    from services.extract.recovery import sweep_stuck_documents

    settings = get_settings()
    return sweep_stuck_documents(
        settings.resolved_database_url,
        older_than_seconds=settings.sweeper_stuck_after_seconds,
        sender=celery_app,
    )


@celery_app.task(name=tasks.POLL_SOURCES, bind=True, acks_late=True)
def poll_sources(self: Task, **_: Any) -> int:
    from services.extract.source_polling import poll_due_sources

    return poll_due_sources(get_settings(), sender=celery_app)
