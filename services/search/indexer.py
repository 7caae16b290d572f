"""The search indexer worker (`celery -A services.search.indexer:celery_app worker -Q search`).

Run it with concurrency 1: the embedded engine has a single writer.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from celery import Task
from celery.signals import setup_logging, worker_init, worker_process_init

from services.search.engines import create_engine
from services.search.engines.base import EngineUnavailable, SearchEngine
from services.search.indexing import index_documents
from shared import tasks
from shared.celery_app import make_celery
from shared.db import dispose_all
from shared.events import DocumentBatch, DocumentsRemoved
from shared.observability import configure_logging, document_ids_var, request_id_var
from shared.runtime import run_async
from shared.settings import get_settings

log = logging.getLogger(__name__)
settings = get_settings()
celery_app = make_celery("search", settings)


@setup_logging.connect
def _logging(**_: Any) -> None:
    configure_logging("indexer", level=settings.log_level, json_logs=settings.log_json)


@worker_init.connect
def _before_fork(**_: Any) -> None:
    # The analyzer's dictionaries loaded before the pool forks: shared, and not paid for
    # by the first batch (as the extract workers' stages, `services.extract.warmup`).
    from services.search.analysis import get_analyzer

    get_analyzer().index_terms("关于推进職業教育产教融合的通知")


@worker_process_init.connect
def _after_fork(**_: Any) -> None:
    dispose_all()


@lru_cache
def engine() -> SearchEngine:
    return create_engine(get_settings(), writable=True)


def dictionary_version() -> str:
    from services.search.analysis import get_analyzer

    return get_analyzer().dictionary_version


@celery_app.task(
    name=tasks.INDEX,
    bind=True,
    acks_late=True,
    autoretry_for=(EngineUnavailable,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=None,  # an engine outage delays indexing; it never fails a document
)
def index(self: Task, **kwargs: Any) -> dict[str, str]:
    event = DocumentBatch.model_validate({**kwargs, "type": "documents.batch"})
    rid, ids = request_id_var.set(event.request_id), document_ids_var.set(event.document_ids)
    try:
        outcomes = index_documents(
            engine(),
            event.document_ids,
            database_url=get_settings().resolved_database_url,
            dictionary_version=dictionary_version(),
            sent_at=event.sent_at,
        )
        log.info("index: %d document(s)", len(outcomes), extra={"stage": "index"})
        return outcomes
    finally:
        request_id_var.reset(rid)
        document_ids_var.reset(ids)


@celery_app.task(
    name=tasks.UNINDEX,
    bind=True,
    acks_late=True,
    autoretry_for=(EngineUnavailable,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=None,
)
def unindex(self: Task, **kwargs: Any) -> int:
    event = DocumentsRemoved.model_validate({**kwargs, "type": "documents.removed"})
    run_async(engine().delete(event.document_ids))
    return len(event.document_ids)
